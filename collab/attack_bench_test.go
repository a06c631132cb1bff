package collab

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// The old-revision attack: a connection submits, at attackRate per second
// (under the default message rate), ops of attackComps components
// attackBack revisions behind the head, each about attackBack ×
// attackComps = 90,000 units of transform work, just within the default
// MaxTransform per submit.
const (
	attackRate  = 150
	attackComps = 2_000
	attackBack  = 45
	honestRate  = 20 // keystrokes per second of the editor measured
)

// BenchmarkOldRevisionAttack measures another editor's ack latency on the
// same document, typing honestRate keystrokes per second, while the
// attack runs: with the default limits, and with the transform and
// write-rate limits off, as before they existed. Run it with a fixed count
// (-benchtime 100x: five seconds of typing).
func BenchmarkOldRevisionAttack(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"limits=default", Options{}},
		{"limits=off", Options{MaxTransform: 1 << 40, WriteRate: -1, DocGrowth: -1}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchOldRevisionAttack(b, tc.opts) })
	}
}

func benchOldRevisionAttack(b *testing.B, opts Options) {
	st := memory.New()
	if err := st.Append(context.Background(), "doc", []storage.Record{{Rev: 1, Op: insertAt(0, 0, strings.Repeat("-", 4*attackComps))}}); err != nil {
		b.Fatal(err)
	}
	opts.Rate, opts.Burst = 1e9, 1<<30 // the honest editor's loop; the attacker keeps to the default rate
	srv, ts := startServer(b, st, opts)
	honest := &lengthTracker{conn: dialBench(b, ts, "honest")}
	attacker := &lengthTracker{conn: dialBench(b, ts, "attacker")}
	honest.join(b)
	attacker.join(b)

	var sent, refused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the attacker's reader: keeps its view of the lengths
		for {
			typ, data, err := attacker.conn.Next()
			if err != nil {
				return
			}
			if typ == wire.TypeError {
				refused.Add(1)
			}
			attacker.see(typ, data, attackComps/2)
		}
	})
	wg.Go(func() { // the attacker's writer, at the allowed rate
		tick := time.NewTicker(time.Second / attackRate)
		defer tick.Stop()
		for seq := uint64(1); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rev, n := attacker.behind(attackBack)
			var ob ot.Builder
			for range attackComps / 2 {
				ob.Retain(1).Insert("y")
			}
			op := ob.Retain(n - attackComps/2).Op()
			if attacker.conn.Send(wire.Submit{Type: wire.TypeSubmit, Doc: "doc", Rev: rev, Seq: seq, Op: op}) != nil {
				return
			}
			sent.Add(1)
		}
	})
	defer func() {
		close(stop)
		attacker.conn.Close()
		wg.Wait()
	}()

	seq := uint64(0)
	typing := time.NewTicker(time.Second / honestRate)
	defer typing.Stop()
	for sent.Load() < attackRate { // a second of attack before measuring
		<-typing.C
		seq++
		honest.submitAck(b, seq)
	}
	work := testutilCounter(b, srv, "collab_transform_work_total")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		<-typing.C
		seq++
		t0 := time.Now()
		honest.submitAck(b, seq)
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric((testutilCounter(b, srv, "collab_transform_work_total")-work)/elapsed.Seconds(), "work/s")
	b.ReportMetric(float64(refused.Load())/float64(sent.Load()), "refused/sent")
}

// dialBench connects and says hello as client id.
func dialBench(b *testing.B, ts *httptest.Server, id string) *rawclient.Conn {
	c, _, err := rawclient.Dial(context.Background(), &websocket.Dialer{}, wsURL(ts), nil, testWait)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Hello(wire.Hello{Version: 1, Client: id}); err != nil {
		b.Fatal(err)
	}
	return c
}

// lengthTracker is a raw client's view of a document whose every op only
// inserts: the length at each revision, from the ops it receives and its
// own acknowledged ops.
type lengthTracker struct {
	conn *rawclient.Conn
	mu   sync.Mutex
	lens []int // lens[rev]
}

func (l *lengthTracker) join(b *testing.B) {
	j, err := l.conn.Join("doc", nil)
	if err != nil {
		b.Fatal(err)
	}
	l.lens = make([]int, j.Rev+1)
	for i := range l.lens {
		l.lens[i] = -1 // unknown: not submitted at
	}
	l.lens[j.Rev] = len([]rune(*j.Text))
}

// see records what message typ tells of the lengths; an ack is of one of
// the tracker's own ops, which insert own code points.
func (l *lengthTracker) see(typ string, data []byte, own int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch typ {
	case wire.TypeOp:
		var m wire.Op
		if json.Unmarshal(data, &m) == nil {
			l.set(m.Rev, m.Op.TargetLen())
		}
	case wire.TypeAck:
		var m wire.Ack
		if json.Unmarshal(data, &m) == nil && m.Rev > 0 {
			l.set(m.Rev, l.lens[m.Rev-1]+own)
		}
	}
}

func (l *lengthTracker) set(rev uint64, n int) {
	for uint64(len(l.lens)) <= rev {
		l.lens = append(l.lens, -1)
	}
	l.lens[rev] = n
}

// behind returns the revision back revisions behind the head the tracker
// knows (or the oldest it knows) and the length there.
func (l *lengthTracker) behind(back int) (uint64, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	head := len(l.lens) - 1
	for rev := max(0, head-back); rev <= head; rev++ {
		if l.lens[rev] >= 0 {
			return uint64(rev), l.lens[rev]
		}
	}
	panic("no known revision")
}

// submitAck inserts one code point at the head and reads until its ack.
func (l *lengthTracker) submitAck(b *testing.B, seq uint64) {
	rev, n := l.behind(0)
	if err := l.conn.Send(wire.Submit{Type: wire.TypeSubmit, Doc: "doc", Rev: rev, Seq: seq, Op: insertAt(n, 0, "b")}); err != nil {
		b.Fatal(err)
	}
	for {
		typ, data, err := l.conn.Next()
		if err != nil {
			b.Fatal(err)
		}
		if typ == wire.TypeError {
			b.Fatalf("honest editor refused: %s", data)
		}
		l.see(typ, data, 1)
		if typ == wire.TypeAck {
			var a wire.Ack
			json.Unmarshal(data, &a)
			if a.Seq == seq {
				return
			}
		}
	}
}
