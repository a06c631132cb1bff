package main

import (
	"os"
	"syscall"
)

// dropPageCache asks the kernel to drop the file's clean pages from the page
// cache (posix_fadvise POSIX_FADV_DONTNEED), so the next process reads it from
// the disk, as after a reboot. Pages another process maps stay.
func dropPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	const dontNeed = 4 // POSIX_FADV_DONTNEED
	if _, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, dontNeed, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
