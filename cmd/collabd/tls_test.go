package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage/bolt"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "collabd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// mintCLI runs "collabd token" with tlsSecret and returns the token it printed.
func mintCLI(t *testing.T, args ...string) string {
	t.Helper()
	return mintEnv(t, []string{"COLLAB_AUTH_SECRET=" + tlsSecret}, args...)
}

const tlsSecret = "collabd-test-secret-0123456789"

// TestTLSAndTokens runs collabd with -tls-cert, -tls-key and -auth-secret,
// edits a document over WSS with a token minted by "collabd token", checks
// that responses carry HSTS, and takes a hot backup over HTTPS with an
// admin token.
func TestTLSAndTokens(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	data := filepath.Join(dir, "collab.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-data", data,
		"-tls-cert", certFile, "-tls-key", keyFile}, []string{"COLLAB_AUTH_SECRET=" + tlsSecret})
	tlsConf := &tls.Config{RootCAs: pool}

	write := mintCLI(t, "-doc", "notes", "-perm", "write", "-name", "Ada", "-ttl", "1h")
	d := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second}
	if _, res, err := d.Dial("wss://"+addr+"/ws", nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("WSS without a token: %v %v, want 401", res, err)
	}
	ws, _, err := d.Dial("wss://"+addr+"/ws?token="+write, nil)
	if err != nil {
		t.Fatalf("WSS dial: %v", err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	send := func(v any) {
		if err := ws.WriteJSON(v); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(typ string) {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if got, _ := wire.PeekType(data); got == typ {
				return
			} else if got == wire.TypeError {
				t.Fatalf("got %s, want %s", data, typ)
			}
		}
	}
	send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "tls-client"})
	expect(wire.TypeWelcome)
	send(wire.Join{Type: wire.TypeJoin, Doc: "notes"})
	expect(wire.TypeJoined)
	send(wire.Submit{Type: wire.TypeSubmit, Doc: "notes", Rev: 0, Seq: 1, Op: new(ot.Builder).Insert("over TLS").Op()})
	expect(wire.TypeAck)

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	req, _ := http.NewRequest("GET", "https://"+addr+"/api/docs/notes", nil)
	req.Header.Set("Authorization", "Bearer "+write)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Text string }
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || body.Text != "over TLS" {
		t.Fatalf("GET over HTTPS: %d %q", res.StatusCode, body.Text)
	}
	for _, path := range []string{"/api/docs/notes", "/d/notes"} {
		res, err := hc.Get("https://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("GET %s over HTTPS: Strict-Transport-Security %q, want max-age=31536000", path, got)
		}
	}

	// A hot backup needs an admin token for every document.
	http.DefaultTransport.(*http.Transport).TLSClientConfig = tlsConf
	defer func() { http.DefaultTransport.(*http.Transport).TLSClientConfig = nil }()
	hot := filepath.Join(dir, "hot.db")
	if err := run(ctx, []string{"backup", "-url", "https://" + addr, "-out", hot, "-token", write}, nil); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("backup with a write token: %v, want 403", err)
	}
	admin := mintCLI(t, "-doc", "*", "-perm", "admin", "-ttl", "5m")
	if err := run(ctx, []string{"backup", "-url", "https://" + addr, "-out", hot}, []string{"COLLAB_TOKEN=" + admin}); err != nil {
		t.Fatalf("backup with an admin token: %v", err)
	}

	cancel()
	wait()
	db, err := bolt.Open(hot, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if doc, err := db.Load(context.Background(), "notes"); err != nil || doc.Text != "over TLS" {
		t.Fatalf("backup holds %q, %v", doc.Text, err)
	}
}

// TestTokenCommand: the token command refuses what the server would.
func TestTokenCommand(t *testing.T) {
	env := []string{"COLLAB_AUTH_SECRET=" + tlsSecret}
	for _, args := range [][]string{
		{"-doc", "d", "-perm", "owner"},
		{"-doc", "", "-perm", "read"},
		{"-doc", "d", "-ttl", "-1h"},
		{"-doc", "d", "-secret", "short"},
	} {
		if err := run(context.Background(), append([]string{"token"}, args...), env); err == nil {
			t.Errorf("collabd token %v succeeded", args)
		}
	}
	if err := run(context.Background(), []string{"-auth-secret", "short", "-addr", "127.0.0.1:0"}, nil); err == nil {
		t.Error("collabd accepted a 5-byte secret")
	}
}
