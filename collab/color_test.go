package collab

import (
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// TestColorChecked: a hello whose color is not #rgb, #rrggbb or #rrggbbaa
// is refused with bad_message and changes nothing (no welcome; the
// connection may say hello again); valid colours reach the other editors
// as sent.
func TestColorChecked(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	watcher := connect(t, ts, "watcher")
	watcher.join("d", nil)
	ws, _, err := dialRaw(t, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &tclient{t: t, ws: ws, id: "painter"}
	t.Cleanup(func() { ws.Close() })
	for _, bad := range []string{"url(//attacker.example/leak)", "red", "#12345", "#d33;x:y", "#ggg"} {
		c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "painter", Color: bad})
		c.expectError(wire.CodeBadMessage)
	}
	c.send(wire.Join{Type: wire.TypeJoin, Doc: "d"})
	c.expectError(wire.CodeHelloRequired)
	for _, good := range []string{"#D33", "#1a7f37", "#1a7f3780"} {
		c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "painter", Color: good})
		c.expect(wire.TypeWelcome, nil)
		c.join("d", nil)
		var e wire.Editor
		for e.Event != wire.EventJoin || e.Client != wire.PublicID("painter") {
			watcher.expect(wire.TypeEditor, &e)
		}
		if e.Color != good {
			t.Fatalf("the watcher sees color %q, want %q", e.Color, good)
		}
		c.send(wire.Leave{Type: wire.TypeLeave, Doc: "d"})
	}
}
