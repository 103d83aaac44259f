package upload

import (
	"errors"
	"fmt"
	"net/http"
	"path"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// New returns the whole upload service, this chain around a Handler:
//
//	tracing.Middleware("upload", tracing.Root())  root span; inbound trace context is a link
//	→ flags                                       WithFlags, optional
//	→ edge.RequestID, edge.AccessLog, edge.Recover
//	→ CORS                                        WithCORS, optional; preflights need no signature
//	→ a path ServeMux would clean and redirect: hmacsig.Require refuses it (403)
//	→ ServeMux: PatternHealth (no signature), PatternUpload and PatternPart
//	  (or WithPatterns; anything else is a 404 edge.ErrNotFound problem):
//	    hmacsig.Require(verifier)                 the upload key; verified first, so an
//	                                              unsigned request never costs a lookup
//	    → zone.DetectCompany (from the path) → zone.Resolve(dir) → Handler
//
// Assemble it yourself from the same exported pieces to change the order
// or add stages. New reads the options of NewHandler and those whose doc
// names New.
func New(verifier *hmacsig.Verifier, dir zone.Directory, fus *Client, opts ...Option) (http.Handler, error) {
	if verifier == nil || dir == nil {
		return nil, errors.New("upload: New: a verifier for the upload key and a zone directory are required")
	}
	cfg, err := newConfig("New", opts, newReads)
	if err != nil {
		return nil, err
	}
	h, err := newHandler("New", fus, cfg)
	if err != nil {
		return nil, err
	}
	health, err := edge.NewHealth(nil, edge.WithLogger(cfg.logger))
	if err != nil {
		return nil, err
	}
	guarded, err := zoneStages(verifier, dir, cfg, h)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.patternUpload, guarded)
	mux.Handle(cfg.patternPart, guarded)
	mux.Handle(PatternHealth, health.Live())
	// Every error is a problem, also the mux's own 404 and 405.
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, edge.ErrNotFound) })
	mux.Handle("/", notFound)
	// ServeMux answers a path it would clean ("//", "/./", "/x/../") with
	// a 307 to the cleaned path, the signed query in Location. Such a path
	// breaks the signed-URL syntax: the verifier refuses it (403
	// signature_malformed, or signature_missing when unsigned).
	unclean := hmacsig.Require(verifier)(notFound)
	routed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && p != muxCleanPath(p) {
			unclean.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})

	chain := []func(http.Handler) http.Handler{
		tracing.Middleware("upload", append([]tracing.Option{tracing.Root()}, tracerOptions(cfg)...)...),
	}
	if cfg.flags != nil {
		chain = append(chain, cfg.flags)
	}
	log := edge.WithLogger(cfg.logger)
	chain = append(chain, edge.RequestID(edge.WithTrust(cfg.trust)), edge.AccessLog(log), edge.Recover(log))
	if cfg.cors != nil {
		chain = append(chain, cfg.cors)
	}
	// The stages above pass on copies of the request; Route names the span
	// after the pattern the mux picks.
	chain = append(chain, tracing.Route)
	return edge.Chain(chain...)(routed), nil
}

// muxCleanPath is the path ServeMux routes p to (net/http's cleanPath): a
// p it changes is answered with a redirect.
func muxCleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// zoneStages puts signature verification and zone resolution before h. A
// zone option that zone's constructors refuse makes them panic; New reports
// it as its error instead.
func zoneStages(verifier *hmacsig.Verifier, dir zone.Directory, cfg *config, h http.Handler) (_ http.Handler, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("upload: New: %v", v)
		}
	}()
	return edge.Chain(
		hmacsig.Require(verifier),
		zone.DetectCompany(cfg.detect...),
		zone.Resolve(dir, cfg.resolve...),
	)(h), nil
}

// tracerOptions are the tracing options of cfg.
func tracerOptions(cfg *config) []tracing.Option {
	if cfg.provider == nil {
		return nil
	}
	return []tracing.Option{tracing.WithTracerProvider(cfg.provider)}
}
