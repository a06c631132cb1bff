package collab

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/storage/memory"
)

// BenchmarkSubmitAck measures durable edits per second: editors on their
// own documents each submit an op and wait for its ack, over loopback
// WebSockets. With bbolt, concurrent documents share group commits.
func BenchmarkSubmitAck(b *testing.B) {
	for _, store := range []string{"mem", "bolt"} {
		for _, editors := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/editors=%d", store, editors), func(b *testing.B) {
				var st storage.Store = memory.New()
				if store == "bolt" {
					db, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					st = db
				}
				_, ts := startServer(b, st, Options{Rate: 1e9, Burst: 1 << 30})
				clients := make([]*websocket.Conn, editors)
				for i := range clients {
					ws, _, err := websocket.DefaultDialer.Dial(wsURL(ts), nil)
					if err != nil {
						b.Fatal(err)
					}
					defer ws.Close()
					ws.WriteJSON(wire.Hello{Type: wire.TypeHello, Version: 1, Client: fmt.Sprintf("b%d", i)})
					ws.WriteJSON(wire.Join{Type: wire.TypeJoin, Doc: fmt.Sprintf("bench-%d", i)})
					ws.ReadMessage()
					ws.ReadMessage()
					clients[i] = ws
				}
				b.ResetTimer()
				var wg sync.WaitGroup
				for i, ws := range clients {
					n := b.N / editors
					if i < b.N%editors {
						n++
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := 0; k < n; k++ {
							op := insertAt(k, k, "x")
							ws.WriteJSON(wire.Submit{Type: wire.TypeSubmit, Doc: fmt.Sprintf("bench-%d", i), Rev: uint64(k), Seq: uint64(k + 1), Op: op})
							for {
								_, data, err := ws.ReadMessage()
								if err != nil {
									b.Error(err)
									return
								}
								var m struct{ Type string }
								json.Unmarshal(data, &m)
								if m.Type == wire.TypeAck {
									break
								}
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
			})
		}
	}
}
