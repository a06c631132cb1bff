//go:build !linux

package main

import "errors"

func dropPageCache(string) error { return errors.New("dropping a file's page cache needs Linux") }
