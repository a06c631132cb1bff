package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
)

// addrPool hands out local (source) addresses for client connections,
// round-robin. One source address has about 28,000 ephemeral ports towards
// one server address (net.ipv4.ip_local_port_range), so larger runs spread
// their connections over several loopback addresses.
type addrPool struct {
	addrs []netip.Addr
	next  atomic.Uint64
}

// maxSourceAddrs bounds a range, so a typo cannot allocate millions.
const maxSourceAddrs = 1024

// parseSourceAddrs parses -source-addrs: a comma-separated list of
// loopback addresses and ranges ("127.0.0.2-127.0.0.9"), or a count N
// meaning 127.0.0.1 through 127.0.0.N. Empty means no pool (the kernel
// picks the source address).
func parseSourceAddrs(s string) (*addrPool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 254 {
			return nil, fmt.Errorf("-source-addrs %d: want 1 to 254 addresses", n)
		}
		s = fmt.Sprintf("127.0.0.1-127.0.0.%d", n)
	}
	p := &addrPool{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		from, to, isRange := strings.Cut(item, "-")
		a, err := loopback(from)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = loopback(to); err != nil {
				return nil, err
			}
			if b.Less(a) {
				return nil, fmt.Errorf("-source-addrs: range %s ends before it starts", item)
			}
		}
		for ip := a; ; ip = ip.Next() {
			if len(p.addrs) == maxSourceAddrs {
				return nil, fmt.Errorf("-source-addrs: more than %d addresses", maxSourceAddrs)
			}
			p.addrs = append(p.addrs, ip)
			if ip == b {
				break
			}
		}
	}
	return p, nil
}

func loopback(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return a, fmt.Errorf("-source-addrs: %w", err)
	}
	if !a.IsLoopback() {
		return a, fmt.Errorf("-source-addrs: %s is not a loopback address (runs stay on loopback)", a)
	}
	return a, nil
}

// local returns the source address of the next connection; nil (the
// kernel's choice) for a nil pool.
func (p *addrPool) local() net.Addr {
	if p == nil {
		return nil
	}
	i := p.next.Add(1) - 1
	return &net.TCPAddr{IP: p.addrs[i%uint64(len(p.addrs))].AsSlice()}
}

func (p *addrPool) String() string {
	if p == nil {
		return "the kernel's choice"
	}
	if len(p.addrs) == 1 {
		return p.addrs[0].String()
	}
	return fmt.Sprintf("%d addresses, %s … %s", len(p.addrs), p.addrs[0], p.addrs[len(p.addrs)-1])
}

// dialer returns a net.Dialer binding its connections to the pool's next
// source address.
func (p *addrPool) dialer() *net.Dialer {
	d := &net.Dialer{}
	if la := p.local(); la != nil {
		d.LocalAddr = la
	}
	return d
}
