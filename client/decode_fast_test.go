package client

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fastServerCases are messages as the server writes them, and near misses
// that the general path must decide.
var fastServerCases = []string{
	`{"type":"op","doc":"notes","rev":6,"op":[10,"!"],"client":"c9ed350128bfc5520ca43669","seq":8,"name":"Bo"}`,
	`{"type":"op","doc":"d","rev":1,"op":["h\u00e9 \ud83d\ude00\n",-2,1]}`,
	`{"type":"ack","doc":"notes","seq":1,"rev":5}`,
	` { "seq" : 1 , "rev":5, "doc":"notes", "type":"ack" } `,
	`{"type":"op","doc":"d","rev":1,"op":[1],"name":"A\"da"}`,
	`{"type":"ack","doc":"d","seq":1,"rev":5,"rev":6}`,
	`{"type":"ack","doc":"d","seq":1}`,
	`{"type":"op","doc":"d","rev":1.0,"op":[1]}`,
	`{"type":"op","doc":"d","rev":1,"op":["\ud83d"]}`,
	`{"type":"presence","doc":"d","client":"x","rev":1,"anchor":0,"head":0}`,
	`{"Type":"ack","doc":"d","seq":1,"rev":2}`,
}

func TestFastServerMsg(t *testing.T) {
	fast := 0
	for _, data := range fastServerCases {
		if checkSameServerMsg(t, []byte(data)) {
			fast++
		}
	}
	if fast != 4 {
		t.Errorf("%d of the cases took the fast path, want the first 4", fast)
	}
}

// FuzzFastServerMsg: whatever fastServerMsg decodes, encoding/json decodes
// to the same message.
func FuzzFastServerMsg(f *testing.F) {
	for _, data := range fastServerCases {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkSameServerMsg(t, data) })
}

// checkSameServerMsg reports whether data took the fast path, failing if
// the general path decodes it otherwise.
func checkSameServerMsg(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastServerMsg(data)
	if !ok {
		return false
	}
	var general serverMsg
	if err := json.Unmarshal(data, &general); err != nil {
		t.Fatalf("fast path took %s, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(fast.typed(), general.typed()) || fast.Op.String() != general.Op.String() {
		t.Fatalf("%s: fast %+v, encoding/json %+v", data, fast, general)
	}
	return true
}

func BenchmarkDecodeServerMsg(b *testing.B) {
	data := []byte(fastServerCases[0])
	for _, bc := range []struct {
		name   string
		decode func() error
	}{
		{"fast", func() error { _, err := decodeServerMsg(data); return err }},
		{"json", func() error { var m serverMsg; return json.Unmarshal(data, &m) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
