package collab

// refuse drops every pending op with err: editors get it with the op's
// seq and resubmit, HTTP waiters get it. Their clients' sequence records
// go back to the committed ones, so that the resubmissions are taken.
// It is the one way pending ops are given up: after a failed commit, when
// a shared store's commit cannot be retried, and when the document stops
// (its editors kicked first, so only the HTTP waiters are left to answer).
func (d *document) refuse(err error) { d.refuseFirst(err, err) }

// refuseFirst refuses the first pending op with first, the others with err.
func (d *document) refuseFirst(first, err error) {
	for i, p := range d.pending {
		err := err
		if i == 0 {
			err = first
		}
		if p.reply != nil {
			p.reply <- putResult{err: err}
			continue
		}
		for c, e := range d.editors {
			if e.client == p.rec.Client {
				c.sendError(err, d.id, p.rec.Seq)
			}
		}
		if cs, ok := d.seqs[p.rec.Client]; ok {
			cs.seq, cs.rev = cs.cseq, cs.crev
			d.seqs[p.rec.Client] = cs
		}
	}
	d.pending, d.inflight, d.conflicts = nil, 0, 0
	d.resetHeadMax()
}
