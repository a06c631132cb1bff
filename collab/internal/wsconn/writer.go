package wsconn

import (
	"time"

	"github.com/gorilla/websocket"
)

// entry is one queued text message, or several taking one place in the
// queue. Its bytes may be shared by many connections and are never
// changed: a broadcast is encoded once and framed by each writer (a
// frame header is a few bytes; gorilla's PreparedMessage would allocate
// a 4 KiB buffer per message to frame it).
type entry struct {
	data   []byte
	frames [][]byte
}

// Send queues the text message data without blocking. data may be shared
// with other connections: it is never changed, and must not be. Sending
// starts after Serve was called.
func (c *Conn) Send(data []byte) { c.enqueue(entry{data: data}) }

// SendFrames queues text messages as one entry of the queue, written
// together: messages that belong together (a welcome of one message per
// editor present, what one commit sends an editor) must not count as a
// backlog. As with Send, the bytes may be shared and are never changed.
func (c *Conn) SendFrames(frames [][]byte) { c.enqueue(entry{frames: frames}) }

// Queued is the number of entries waiting for the writer.
func (c *Conn) Queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}

// enqueue queues m without blocking. A peer whose queue is full is too
// slow to follow: it is closed with TooSlowCode.
func (c *Conn) enqueue(m entry) {
	if c.Closed() {
		return
	}
	c.qmu.Lock()
	if len(c.queue) >= c.opts.QueueLen {
		c.queue = nil // never written: the close frame goes next
		c.qmu.Unlock()
		c.h.Refused(ErrTooSlow)
		c.Close(c.opts.TooSlowCode, "too slow")
		return
	}
	c.queue = append(c.queue, m)
	c.startWriterLocked()
	c.qmu.Unlock()
}

// startWriterLocked starts the writer unless it runs or has ended the
// connection. There is never more than one.
func (c *Conn) startWriterLocked() {
	if c.writing || c.ended {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// pingTick asks the writer for a ping and sets itself again.
func (c *Conn) pingTick() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.ended {
		return
	}
	c.pingDue = true
	c.startWriterLocked()
	c.ping.Reset(c.opts.PingPeriod)
}

// writeLoop is the only writer of the socket (gorilla allows one). It
// writes until the queue is empty, or until the connection is closed: then
// it flushes, sends the close frame and ends the connection's writing.
func (c *Conn) writeLoop() {
	defer c.writers.Done()
	var batch []entry
	for {
		if c.Closed() {
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
		if err := c.writeBatch(batch, ping, time.Now().Add(c.opts.WriteWait)); err != nil {
			c.Close(0, "")
		}
	}
}

// next takes what is queued, leaving spare (emptied) as the queue, and
// whether a ping is due. With nothing to do it reports idle, and the
// writer must end: it is no longer running. Not while the connection is
// closed, so that the close cannot slip between this check and the end
// (Close starts a writer only when none runs).
func (c *Conn) next(spare []entry) (batch []entry, ping, idle bool) {
	clear(spare)
	if cap(spare) > maxSpare {
		spare = nil // an idle connection keeps no big queue
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.queue) == 0 && !c.pingDue && !c.Closed() {
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
func (c *Conn) writeBatch(batch []entry, ping bool, deadline time.Time) error {
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
func (c *Conn) tooSlow() bool { return c.Closed() && c.closeCode == c.opts.TooSlowCode }

func (c *Conn) write(m entry) error {
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
func (c *Conn) flush() {
	if c.closeCode == 0 || c.closeCode == c.opts.TooSlowCode {
		return
	}
	batch, _, _ := c.next(nil)
	c.writeBatch(batch, false, time.Now().Add(time.Second))
}

// finish sends the close frame and gives the reader a second to see the
// peer's answer before the socket is closed under it.
func (c *Conn) finish() {
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
