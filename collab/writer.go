package collab

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// outMsg is one queued message, or several taking one place in the
// queue. Its bytes may be shared by many connections and are never
// changed: a broadcast is encoded once and framed by each writer (a
// frame header is a few bytes; gorilla's PreparedMessage would allocate
// a 4 KiB buffer per message to frame it).
type outMsg struct {
	data   []byte
	frames [][]byte
}

// send queues data, shared with other connections, without blocking.
func (c *conn) send(data []byte) { c.enqueue(outMsg{data: data}) }

// sendMsg encodes v for this connection alone and queues it.
func (c *conn) sendMsg(v any) { c.enqueue(outMsg{data: encode(v)}) }

// sendAll encodes vs for this connection alone and queues them as one
// entry: a joining editor's welcome (one message per editor present) must
// not count as a backlog, or a crowded document would refuse newcomers.
func (c *conn) sendAll(vs []any) {
	frames := make([][]byte, len(vs))
	for i, v := range vs {
		frames[i] = encode(v)
	}
	c.enqueue(outMsg{frames: frames})
}

// enqueue queues m without blocking. A client whose queue is full is too
// slow to follow its documents: it is closed with 4002 and must resume.
func (c *conn) enqueue(m outMsg) {
	if c.closed() {
		return
	}
	c.qmu.Lock()
	if len(c.queue) >= c.srv.opts.QueueLen {
		c.queue = nil // never written: the close frame goes next
		c.qmu.Unlock()
		c.srv.metrics.slowClients.Inc()
		c.srv.limitHit(limitQueue)
		c.closeWith(wire.CloseTooSlow, "too slow")
		return
	}
	c.queue = append(c.queue, m)
	c.startWriterLocked()
	c.qmu.Unlock()
}

// startWriterLocked starts the writer unless it runs or has ended the
// connection. There is never more than one.
func (c *conn) startWriterLocked() {
	if c.writing || c.ended {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// pingTick asks the writer for a ping and sets itself again.
func (c *conn) pingTick() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.ended {
		return
	}
	c.pingDue = true
	c.startWriterLocked()
	c.ping.Reset(c.srv.opts.PingPeriod)
}

// writeLoop is the only writer of the socket (gorilla allows one). It
// writes until the queue is empty, or until the connection is closed: then
// it flushes, sends the close frame and ends the connection's writing.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	var batch []outMsg
	for {
		if c.closed() {
			c.flush()
			c.finish()
			c.qmu.Lock()
			c.writing, c.ended = false, true
			c.qmu.Unlock()
			return
		}
		var ping, idle bool
		batch, ping, idle = c.next(batch)
		if idle {
			return
		}
		if err := c.writeBatch(batch, ping, time.Now().Add(c.srv.opts.WriteWait)); err != nil {
			c.closeWith(0, "")
		}
	}
}

// next takes what is queued, leaving spare (emptied) as the queue, and
// whether a ping is due. With nothing to do it reports idle, and the
// writer must end: it is no longer running. Not while the connection is
// closed, so that the close cannot slip between this check and the end
// (closeWith starts a writer only when none runs).
func (c *conn) next(spare []outMsg) (batch []outMsg, ping, idle bool) {
	clear(spare)
	if cap(spare) > maxSpare {
		spare = nil // an idle connection keeps no big queue
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.queue) == 0 && !c.pingDue && !c.closed() {
		c.writing = false
		if cap(c.queue) > maxIdleQueue {
			c.queue = nil
		}
		return nil, false, true
	}
	batch, c.queue = c.queue, spare[:0]
	ping, c.pingDue = c.pingDue, false
	return batch, ping, false
}

const (
	maxSpare     = 16 // the largest emptied queue a writer keeps for reuse
	maxIdleQueue = 4  // the largest empty queue a connection keeps while idle
)

// writeBatch writes batch, and a ping if asked, as one write(2) unless it
// passes flushAt.
func (c *conn) writeBatch(batch []outMsg, ping bool, deadline time.Time) error {
	c.wc.cork(deadline)
	c.ws.SetWriteDeadline(deadline)
	var err error
	for _, m := range batch {
		if c.tooSlow() {
			break // the close frame goes next, not the backlog
		}
		if err = c.write(m); err != nil {
			break
		}
	}
	if ping && err == nil {
		err = c.ws.WriteControl(websocket.PingMessage, nil, deadline)
	}
	if uerr := c.wc.uncork(); err == nil {
		err = uerr
	}
	return err
}

// tooSlow reports whether the connection was closed for being too slow.
func (c *conn) tooSlow() bool { return c.closed() && c.closeCode == wire.CloseTooSlow }

func (c *conn) write(m outMsg) error {
	for _, f := range m.frames {
		if err := c.wc.text(f); err != nil {
			return err
		}
	}
	if m.frames != nil {
		return nil
	}
	return c.wc.text(m.data)
}

// flush writes what was queued before the close, such as the error that
// explains it. A connection closed for being too slow or without a close
// code is not flushed: its peer is not reading or gone. Like the close
// frame, the flush gets a second, so a stalled peer cannot hold up
// Shutdown.
func (c *conn) flush() {
	if c.closeCode == 0 || c.closeCode == wire.CloseTooSlow {
		return
	}
	batch, _, _ := c.next(nil)
	c.writeBatch(batch, false, time.Now().Add(time.Second))
}

// finish sends the close frame and gives the reader a second to see the
// peer's answer before the socket is closed under it.
func (c *conn) finish() {
	if c.closeCode != 0 {
		msg := websocket.FormatCloseMessage(c.closeCode, c.closeReason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.read:
	case <-t.C:
		c.wc.Close()
	}
}
