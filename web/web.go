// Package web serves the browser side of collab: the JavaScript client
// library, the embeddable <collab-editor> widget, and the pages (the
// document list at "/", the editor at "/d/{id}", the bare iframe page at
// "/embed/{id}"). Everything is embedded in the binary, CodeMirror 6 too,
// as one committed ES module (static/vendor/codemirror.js, which
// `npm run build:codemirror` in web/ rebuilds from the versions pinned in
// package-lock.json): serving needs neither node nor npm.
//
// Contracts:
//   - Scripts, styles and images are served with Access-Control-Allow-Origin: *
//     so pages on other origins can import /collab.js as a module, with an
//     ETag (the content's hash) and a short max-age so a new release reaches
//     embedders within minutes.
//   - Pages are served with no-cache and a Content-Security-Policy that
//     allows scripts, styles, images and connections from the page's own
//     origin only; /embed/{id} may be framed by Options.FrameAncestors,
//     the other pages by collab's own pages only. Document ids in paths
//     are checked (1–128 of letters, digits, '-', '_', '.') before a page
//     is served.
//   - Handler never touches /ws, /api/, /healthz or /metrics: the server
//     mounts it at "/" next to those.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assetMaxAge is how long browsers may use a script or style before
// revalidating it with its ETag.
const assetMaxAge = 5 * time.Minute

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	etag  string
	ctype string
}

// Handler returns the handler of the pages and scripts, whose /embed
// pages only collab's own pages may frame. It is safe for concurrent use
// and may be mounted at "/".
func Handler() http.Handler {
	h, err := NewHandler(Options{})
	if err != nil {
		panic(err) // the zero Options are valid
	}
	return h
}

// NewHandler is Handler with options; it fails only on an invalid
// FrameAncestors entry (ErrFrameAncestor).
func NewHandler(o Options) (http.Handler, error) {
	embedAncestors, err := framePolicy(o.FrameAncestors)
	if err != nil {
		return nil, err
	}
	assets := loadAssets()
	mux := http.NewServeMux()
	page := func(name, ancestors string) http.Handler {
		return pageHandler(assets["/"+name], pagePolicy+ancestors)
	}
	mux.Handle("GET /{$}", page("index.html", "'self'"))
	invalid := errorPage(assets["/invalid-doc.html"], pagePolicy+"'self'", http.StatusNotFound)
	mux.Handle("GET /d/{id}", docPage(page("doc.html", "'self'"), invalid))
	mux.Handle("GET /embed/{id}", docPage(page("embed.html", embedAncestors), invalid))
	for name, a := range assets {
		if strings.HasSuffix(name, ".html") {
			continue
		}
		mux.Handle("GET "+name, assetHandler(a))
		mux.Handle("OPTIONS "+name, assetHandler(a))
	}
	return mux, nil
}

func loadAssets() map[string]*asset {
	root, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	assets := make(map[string]*asset)
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".html":
			ctype = "text/html; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		assets["/"+p] = &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return assets
}

// assetHandler serves a script, style or image to any origin.
func assetHandler(a *asset) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Cache-Control", "public, max-age="+itoa(int(assetMaxAge/time.Second)))
		h.Set("X-Content-Type-Options", "nosniff")
		serveBody(w, r, a)
	})
}

// pageHandler serves an HTML page under policy (a Content-Security-Policy);
// pages are always revalidated.
func pageHandler(a *asset, policy string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		serveBody(w, r, a)
	})
}

func serveBody(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("ETag", a.etag)
	h.Set("Content-Type", a.ctype)
	// ServeContent answers If-None-Match with 304 and handles HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// errorPage serves the HTML page a with status, under policy.
func errorPage(a *asset, policy string, status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Type", a.ctype)
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write(a.body)
		}
	})
}

// docPage serves invalid (a 404 page) for a path whose document id is
// not valid, next otherwise.
func docPage(next, invalid http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ValidDocID(r.PathValue("id")) {
			invalid.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ValidDocID reports whether id is a valid document id: 1–128 of ASCII
// letters, digits, '-', '_' and '.'.
func ValidDocID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
