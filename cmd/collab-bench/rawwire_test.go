package main

import (
	"encoding/json"
	"testing"
)

// TestIncomingDecode: the baseline client's decoding agrees with
// encoding/json, on the fast path and off it.
func TestIncomingDecode(t *testing.T) {
	for _, data := range []string{
		`{"type":"op","doc":"notes","rev":6,"op":[10,"!"],"client":"c9ed","seq":8,"name":"Bo"}`,
		`{"type":"ack","doc":"notes","seq":1,"rev":5}`,
		`{"type":"op","doc":"d","rev":1,"op":[1],"name":"A\"da"}`,
		`{"type":"error","code":"unavailable","message":"m","doc":"d","seq":3}`,
	} {
		var got, want incoming
		if err := got.decode([]byte(data)); err != nil {
			t.Fatalf("decode(%s): %v", data, err)
		}
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatal(err)
		}
		if got.Type != want.Type || got.Rev != want.Rev || got.Seq != want.Seq || got.Code != want.Code || got.Op.String() != want.Op.String() {
			t.Errorf("decode(%s) = %+v, want %+v", data, got, want)
		}
	}
}
