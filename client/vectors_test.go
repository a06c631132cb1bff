package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// clientVectors is testdata/client-vectors.json, the client vectors shared
// with the browser's sync core (its "about" describes them).
type clientVectors struct {
	Version int    `json:"version"`
	Doc     string `json:"doc"`
	Client  string `json:"client"`
	Public  string `json:"public"`
	Vectors []struct {
		Name  string       `json:"name"`
		Steps []vectorStep `json:"steps"`
	} `json:"vectors"`
}

type vectorStep struct {
	Connect   bool              `json:"connect"`
	Reconnect bool              `json:"reconnect"`
	Recv      json.RawMessage   `json:"recv"`
	Edit      json.RawMessage   `json:"edit"`
	Send      []json.RawMessage `json:"send"`
	Text      string            `json:"text"`
	Rev       *uint64           `json:"rev"`
	// Fields of the simulation's transcripts, which record this client
	// (collab/internal/sim): the file's vectors do not use them.
	Disconnect bool            `json:"disconnect"`
	Welcome    json.RawMessage `json:"welcome"`
	Action     string          `json:"action"`
	Diffs      json.RawMessage `json:"diffs"`
}

func loadClientVectors(t *testing.T) clientVectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "client-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v clientVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != 1 || len(v.Vectors) == 0 {
		t.Fatalf("client vectors: version %d, %d vectors", v.Version, len(v.Vectors))
	}
	if got := wire.PublicID(v.Client); got != v.Public {
		t.Fatalf("public id of %q is %s, the vectors say %s", v.Client, got, v.Public)
	}
	return v
}

// TestClientVectors runs the shared client vectors against the Go client,
// with the fake server playing the server's part message by message.
func TestClientVectors(t *testing.T) {
	vs := loadClientVectors(t)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			r := &vectorRun{t: t, vs: vs, fs: newFakeServer(t)}
			for i, s := range v.Steps {
				r.step(i, s)
			}
		})
	}
}

// vectorRun is one vector's client and its fake server connection.
type vectorRun struct {
	t       *testing.T
	vs      clientVectors
	fs      *fakeServer
	conn    *Conn
	fc      *fakeConn
	doc     *Doc
	joining chan joinResult // the Join in progress, until the first joined
	barrier int
}

type joinResult struct {
	d   *Doc
	err error
}

func (r *vectorRun) step(i int, s vectorStep) {
	t := r.t
	t.Helper()
	where := fmt.Sprintf("step %d", i)
	if s.Disconnect || s.Welcome != nil || s.Action != "" || s.Diffs != nil {
		t.Fatalf("%s: disconnect, welcome, action and diffs are for transcripts of the Go client, replayed by web/jstest/sim-replay.js", where)
	}
	switch {
	case s.Connect:
		r.conn, r.fc = dial(t, r.fs, Options{Reconnect: true, ClientID: r.vs.Client})
		r.joining = make(chan joinResult, 1)
		go func() {
			d, err := r.conn.Join(testCtx(t), r.vs.Doc)
			r.joining <- joinResult{d, err}
		}()
	case s.Reconnect:
		r.fc.drop()
		r.fc = r.fs.accept()
	case s.Recv != nil:
		r.fc.sendRaw(s.Recv)
	case s.Edit != nil:
		op, err := ot.Parse(s.Edit, ot.Limits{})
		if err != nil {
			t.Fatalf("%s: edit %s: %v", where, s.Edit, err)
		}
		if err := r.doc.Apply(op); err != nil {
			t.Fatalf("%s: Apply(%s): %v", where, s.Edit, err)
		}
	default:
		t.Fatalf("%s: no input", where)
	}
	for k, want := range s.Send {
		_, got := r.fc.read()
		if !sameJSON(t, got, want) {
			t.Fatalf("%s: message %d sent %s, want %s", where, k, got, want)
		}
	}
	if r.doc == nil && r.joining != nil && s.Recv != nil {
		res := <-r.joining // the first joined ends Join
		if res.err != nil {
			t.Fatalf("%s: Join: %v", where, res.err)
		}
		r.doc, r.joining = res.d, nil
	}
	if r.doc == nil {
		return
	}
	if s.Recv != nil && len(s.Send) == 0 {
		// Reading what the client sent while handling the message is
		// enough otherwise: Text waits for the handler's lock.
		r.sync()
	}
	if got := r.doc.Text(); got != s.Text {
		t.Fatalf("%s: text %q, want %q", where, got, s.Text)
	}
	if s.Rev != nil && r.doc.Rev() != *s.Rev {
		t.Fatalf("%s: rev %d, want %d", where, r.doc.Rev(), *s.Rev)
	}
}

// sync waits until the client handled every message sent so far: it sends
// an editor's arrival, handled after them, and waits for its event.
func (r *vectorRun) sync() {
	r.t.Helper()
	r.barrier++
	id := fmt.Sprintf("barrier-%d", r.barrier)
	r.fc.send(wire.Editor{Type: wire.TypeEditor, Doc: r.vs.Doc, Client: id, Event: "join"})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		select {
		case e, ok := <-r.doc.Events():
			if !ok {
				r.t.Fatalf("events closed waiting for %s", id)
			}
			if e.Kind == EventJoin && e.Client == id {
				return
			}
		case <-ctx.Done():
			r.t.Fatalf("the client did not handle %s", id)
		}
	}
}

// sendRaw sends a message as the vectors spell it.
func (fc *fakeConn) sendRaw(msg json.RawMessage) {
	fc.t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, msg); err != nil {
		fc.t.Fatal(err)
	}
	fc.send(json.RawMessage(compact.Bytes()))
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}
