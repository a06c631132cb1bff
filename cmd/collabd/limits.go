package main

import "github.com/collabd/collab/collab"

// zeroMeansNoLimit turns the limit flags' 0 ("no limit", as -conn-rate 0)
// into Options' negative, since a zero Options field selects its default.
func zeroMeansNoLimit(o *collab.Options) {
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = -1
	}
	if o.APIRate == 0 {
		o.APIRate = -1
	}
	if o.WriteRate == 0 {
		o.WriteRate = -1
	}
	if o.DocGrowth == 0 {
		o.DocGrowth = -1
	}
}
