package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// nodeHeader names the node that published a presence or beacon message.
const nodeHeader = "Collab-Node"

// Beacon payloads.
var (
	beaconAlive = []byte("alive")
	beaconBye   = []byte("bye")
)

// bus relays presence between nodes over core NATS (at most once, no
// storage: carets are worth nothing a second later) and keeps track of
// which nodes are alive from their beacons.
type bus struct {
	s    *Store
	subj string // beacons

	mu    sync.Mutex
	peers map[string]time.Time // guarded by mu: last beacon of each live node
	subs  map[*busSub]struct{} // guarded by mu
	hb    *nats.Subscription   // guarded by mu
	done  chan struct{}        // closed by stop
	once  sync.Once
}

type busSub struct {
	fn func(from string, data []byte)
}

func newBus(s *Store) *bus {
	return &bus{s: s, subj: s.opts.Prefix + ".nodes", peers: make(map[string]time.Time),
		subs: make(map[*busSub]struct{}), done: make(chan struct{})}
}

func (b *bus) start() error {
	sub, err := b.s.nc.Subscribe(b.subj, func(m *nats.Msg) {
		from := m.Header.Get(nodeHeader)
		if from == "" || from == b.s.node {
			return
		}
		if string(m.Data) == string(beaconBye) {
			b.gone(from)
		} else {
			b.seen(from)
		}
	})
	if err != nil {
		return fmt.Errorf("cluster: subscribe beacons: %w", err)
	}
	b.hb = sub
	b.beacon(beaconAlive)
	b.s.wg.Add(1)
	go b.loop()
	return nil
}

// loop sends this node's beacon and forgets nodes silent for three
// intervals.
func (b *bus) loop() {
	defer b.s.wg.Done()
	t := time.NewTicker(b.s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case now := <-t.C:
			b.beacon(beaconAlive)
			var dead []string
			b.mu.Lock()
			for node, last := range b.peers {
				if now.Sub(last) > 3*b.s.opts.Heartbeat {
					dead = append(dead, node)
				}
			}
			b.mu.Unlock()
			for _, node := range dead {
				b.gone(node)
			}
		}
	}
}

func (b *bus) beacon(data []byte) {
	b.s.nc.PublishMsg(&nats.Msg{Subject: b.subj, Data: data, Header: nats.Header{nodeHeader: []string{b.s.node}}})
}

// stop says goodbye, so that other nodes drop this node's editors at once.
func (b *bus) stop() {
	b.once.Do(func() {
		close(b.done)
		b.beacon(beaconBye)
		b.s.nc.FlushTimeout(b.s.opts.Timeout)
		b.mu.Lock()
		b.hb.Unsubscribe()
		b.mu.Unlock()
	})
}

// seen notes a sign of life from node; a node not known before (new, or
// back after being taken for dead) is announced with empty data.
func (b *bus) seen(node string) {
	b.mu.Lock()
	_, known := b.peers[node]
	b.peers[node] = time.Now()
	b.s.metrics.nodes.Set(float64(len(b.peers)))
	b.mu.Unlock()
	if !known {
		b.notify(node, []byte{})
	}
}

// resync asks every subscriber to tell the other nodes what it holds, as
// to a node that appeared: after a reconnection to NATS, what was said
// while away (a join that replaces an older connection elsewhere) may
// have been lost.
func (b *bus) resync() {
	b.notify("", []byte{})
}

// gone forgets node and tells every subscriber with nil data.
func (b *bus) gone(node string) {
	b.mu.Lock()
	_, known := b.peers[node]
	delete(b.peers, node)
	b.s.metrics.nodes.Set(float64(len(b.peers)))
	b.mu.Unlock()
	if known {
		b.notify(node, nil)
	}
}

func (b *bus) notify(node string, data []byte) {
	b.mu.Lock()
	subs := make([]*busSub, 0, len(b.subs))
	for sub := range b.subs {
		subs = append(subs, sub)
	}
	b.mu.Unlock()
	for _, sub := range subs {
		sub.fn(node, data)
	}
}

// Publish implements collab's Bus: data goes to the other nodes that
// subscribed to document id. Best effort: nothing is stored or retried.
func (s *Store) Publish(id string, data []byte) error {
	err := s.nc.PublishMsg(&nats.Msg{Subject: s.opts.Prefix + ".pres." + encodeKey(id), Data: data,
		Header: nats.Header{nodeHeader: []string{s.node}}})
	if err != nil {
		return natsErr("publish presence", err)
	}
	return nil
}

// Subscribe implements collab's Bus: until ctx ends, fn gets what other
// nodes Publish for document id, with the publishing node's name; fn(node,
// nil) when a node is gone (it closed, or its beacon stopped), fn(node,
// empty) when a node appears and fn("", empty) when this node reconnected
// to NATS (the subscriber may tell the others what it holds).
// fn is called from several goroutines and must not block.
func (s *Store) Subscribe(ctx context.Context, id string, fn func(from string, data []byte)) error {
	sub, err := s.nc.Subscribe(s.opts.Prefix+".pres."+encodeKey(id), func(m *nats.Msg) {
		from := m.Header.Get(nodeHeader)
		if from == "" || from == s.node || len(m.Data) == 0 {
			return
		}
		s.bus.seen(from)
		fn(from, m.Data)
	})
	if err != nil {
		return natsErr("subscribe presence", err)
	}
	bs := &busSub{fn: fn}
	s.bus.mu.Lock()
	s.bus.subs[bs] = struct{}{}
	s.bus.mu.Unlock()
	context.AfterFunc(ctx, func() {
		sub.Unsubscribe()
		s.bus.mu.Lock()
		delete(s.bus.subs, bs)
		s.bus.mu.Unlock()
	})
	return nil
}
