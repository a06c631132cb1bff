package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

func TestKeyEncoding(t *testing.T) {
	ids := []string{"notes", "a.b", "a*b>c", "with space", "tab\there", "=", "a=41", "émoji 😀", "汉字", "-_", "x.", ".", ">", "*"}
	seen := make(map[string]string)
	for _, id := range ids {
		key := encodeKey(id)
		for i := 0; i < len(key); i++ {
			c := key[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '=') {
				t.Errorf("encodeKey(%q) = %q: byte %q is not allowed in a subject token or KV key", id, key, c)
			}
		}
		got, ok := decodeKey(key)
		if !ok || got != id {
			t.Errorf("decodeKey(encodeKey(%q)) = %q, %v", id, got, ok)
		}
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q both encode to %q", id, other, key)
		}
		seen[key] = id
	}
	for _, bad := range []string{"", "=", "=4", "=ZZ", "a=4"} {
		if got, ok := decodeKey(bad); ok {
			t.Errorf("decodeKey(%q) = %q, true; want false", bad, got)
		}
	}
}

func FuzzKey(f *testing.F) {
	f.Add("notes")
	f.Add("a.b c*>😀=")
	f.Fuzz(func(t *testing.T, id string) {
		got, ok := decodeKey(encodeKey(id))
		if id != "" && (!ok || got != id) {
			t.Fatalf("round trip of %q: %q, %v", id, got, ok)
		}
	})
}

func opOf(t *testing.T, s string) ot.Op {
	t.Helper()
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestMessageRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	tests := []struct {
		name string
		m    message
	}{
		{"records", message{kind: kindRecords, epoch: 7, created: now, recs: []storage.Record{
			{Rev: 3, Op: opOf(t, `["hé😀"]`), Author: "Ada", Client: "c-1", Seq: 9, Time: now},
			{Rev: 4, Op: opOf(t, `[1,-2,"x",1]`), Time: now.Add(time.Millisecond)},
		}}},
		{"tombstone", message{kind: kindTombstone, epoch: 0, created: now}},
		{"zero times", message{kind: kindRecords, recs: []storage.Record{{Rev: 1, Op: opOf(t, `["a"]`)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeMessage(encodeMessage(tt.m))
			if err != nil {
				t.Fatal(err)
			}
			if got.kind != tt.m.kind || got.epoch != tt.m.epoch || !got.created.Equal(tt.m.created) || len(got.recs) != len(tt.m.recs) {
				t.Fatalf("got %+v, want %+v", got, tt.m)
			}
			for i, r := range got.recs {
				w := tt.m.recs[i]
				if r.Rev != w.Rev || !r.Op.Equal(w.Op) || r.Author != w.Author || r.Client != w.Client || r.Seq != w.Seq || !r.Time.Equal(w.Time) {
					t.Errorf("record %d: got %+v, want %+v", i, r, w)
				}
			}
		})
	}
}

func TestDecodeRefusesDamage(t *testing.T) {
	good := encodeMessage(message{kind: kindRecords, epoch: 1, recs: []storage.Record{
		{Rev: 1, Op: opOf(t, `["abc"]`), Client: "c", Seq: 1}, {Rev: 2, Op: opOf(t, `[3,"d"]`)}}})
	for n := range len(good) {
		if _, err := decodeMessage(good[:n]); err == nil {
			t.Errorf("a message cut to %d of %d bytes decoded", n, len(good))
		}
	}
	gap := encodeMessage(message{kind: kindRecords, recs: []storage.Record{{Rev: 1, Op: opOf(t, `["a"]`)}, {Rev: 3, Op: opOf(t, `[1,"b"]`)}}})
	if _, err := decodeMessage(gap); err == nil {
		t.Error("records 1 and 3 in one message decoded")
	}
	bad := []byte{formatV1, kindRecords, 0, 0, 1, 1, 0, 0, 0, 0, 1, byte(ot.Insert), 1, 0xff}
	if _, err := decodeMessage(bad); err == nil {
		t.Error("invalid UTF-8 insert decoded")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage(message{kind: kindRecords, epoch: 1, recs: []storage.Record{{Rev: 1, Op: ot.Diff("", "hé"), Client: "c", Seq: 1}}}))
	f.Add(encodeMessage(message{kind: kindTombstone}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(encodeMessage(m))
		if err != nil || len(again.recs) != len(m.recs) {
			t.Fatalf("re-encoding a decoded message: %v", err)
		}
	})
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := snapshot{epoch: 4, seq: 99, rev: 12, created: time.Unix(5, 6), updated: time.Unix(7, 8), text: "hé😀",
		clients: map[string]clientRec{"a": {seq: 3, rev: 10}, "b": {seq: 1, rev: 2}}}
	got, err := decodeSnapshot(encodeSnapshot(s))
	if err != nil {
		t.Fatal(err)
	}
	if got.epoch != s.epoch || got.seq != s.seq || got.rev != s.rev || got.text != s.text ||
		!got.created.Equal(s.created) || !got.updated.Equal(s.updated) || len(got.clients) != 2 || got.clients["a"] != s.clients["a"] {
		t.Fatalf("got %+v, want %+v", got, s)
	}
	if got.authors != nil {
		t.Fatalf("a snapshot without authorship decoded with %+v", got.authors)
	}
	if _, err := decodeSnapshot(encodeSnapshot(s)[:10]); err == nil {
		t.Error("a truncated snapshot decoded")
	}
	s.authors = []storage.Span{{Length: 1, Client: "a", Author: "Ada"}, {Length: 2}}
	got, err = decodeSnapshot(encodeSnapshot(s))
	if err != nil || !slices.Equal(got.authors, s.authors) || got.text != s.text {
		t.Fatalf("with authorship: got %+v, %v; want %+v", got, err, s)
	}
	full := encodeSnapshot(s)
	if _, err := decodeSnapshot(full[:len(full)-1]); err == nil {
		t.Error("a snapshot with truncated authorship decoded")
	}
}

func TestVersionRoundTrip(t *testing.T) {
	v := namedVersion{Version: storage.Version{Rev: 7, Name: "draft", Created: time.Unix(5, 6), Author: "Ada"},
		epoch: 3, text: "hé😀", authors: []storage.Span{{Length: 3, Client: "c", Author: "Ada"}}}
	got, err := decodeVersion(7, encodeVersion(v))
	if err != nil || got.Name != v.Name || got.Author != v.Author || !got.Created.Equal(v.Created) || got.Rev != 7 ||
		got.epoch != 3 || got.text != v.text || !slices.Equal(got.authors, v.authors) {
		t.Fatalf("got %+v, %v; want %+v", got, err, v)
	}
	if _, err := decodeVersion(7, encodeVersion(v)[:8]); err == nil {
		t.Error("a truncated version decoded")
	}
}
