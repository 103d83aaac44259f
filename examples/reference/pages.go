package reference

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// ErrMethodNotAllowed answers anything but GET and HEAD on pages.
var ErrMethodNotAllowed = edge.NewProblem(http.StatusMethodNotAllowed, "method_not_allowed", "The method is not allowed here.")

//go:embed webclients
var webclients embed.FS

// WebClients returns the embedded single-page app: index.html, a template
// given .Nonce, .Zone and .API, and its assets.
func WebClients() fs.FS {
	sub, err := fs.Sub(webclients, "webclients")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

type pages struct {
	prefix string
	fsys   fs.FS
	index  *template.Template
	zone   string
	api    APIBase
}

// APIBase names the API host a page calls: HTTP for a page served over
// plain http, HTTPS (when set) for one served over TLS, so that the page,
// the API and the session cookie share a scheme.
type APIBase struct {
	HTTP, HTTPS string
}

// For returns the base URL for a page requested with r.
func (a APIBase) For(r *http.Request) string {
	if r.TLS != nil && a.HTTPS != "" {
		return a.HTTPS
	}
	return a.HTTP
}

// Pages serves the single-page app in fsys under prefix ("/webclients/"):
// a file by its name, and any other path the index, so that the app's
// client-side routes survive a reload. The index is the template
// index.html, executed with the request's CSP nonce (.Nonce, from
// edge.SecurityHeaders, which must wrap Pages), zoneName (.Zone) and the
// base URL of the API host for the request (.API, api.For; "" for none).
func Pages(prefix string, fsys fs.FS, zoneName string, api APIBase) (http.Handler, error) {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("reference: pages: prefix %q must start and end with /", prefix)
	}
	index, err := template.ParseFS(fsys, "index.html")
	if err != nil {
		return nil, fmt.Errorf("reference: pages: %w", err)
	}
	return &pages{prefix: prefix, fsys: fsys, index: index, zone: zoneName, api: api}, nil
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		edge.WriteProblem(w, r, ErrMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, p.prefix)
	if name != "" && name != "index.html" {
		if fi, err := fs.Stat(p.fsys, name); err == nil && fi.Mode().IsRegular() {
			w.Header().Set("Cache-Control", "public, max-age=300")
			http.ServeFileFS(w, r, p.fsys, name)
			return
		}
	}
	// The index carries a fresh nonce, so it is never cached.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := struct{ Nonce, Zone, API string }{edge.CSPNonceFromContext(r.Context()), p.zone, p.api.For(r)}
	if err := p.index.Execute(w, data); err != nil {
		edge.WriteProblem(w, r, err) // logged only, once the page has started
	}
}
