package upload

import (
	"errors"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// New returns the whole upload service, the seed's chain around a Handler:
//
//	tracing.Middleware("upload", tracing.Root())  root span; inbound trace context is a link
//	→ flags                                       WithFlags, optional
//	→ edge.RequestID, edge.AccessLog, edge.Recover
//	→ CORS                                        WithCORS, optional; preflights need no signature
//	→ ServeMux: PatternHealth (no signature), PatternUpload and PatternPart
//	  (anything else is a 404 not_found problem):
//	    hmacsig.Require(verifier)                 the upload key; verified first, so an
//	                                              unsigned request never costs a lookup
//	    → zone.DetectCompany (from the path) → zone.Resolve(dir) → Handler
//
// Assemble it yourself from the same exported pieces to change the order
// or add stages. Options: those of NewHandler, plus WithCORS, WithFlags,
// WithTracing, WithZone and WithEdge.
func New(verifier *hmacsig.Verifier, dir zone.Directory, fus *Client, opts ...Option) (http.Handler, error) {
	if verifier == nil || dir == nil {
		return nil, errors.New("upload: New: a verifier for the upload key and a zone directory are required")
	}
	h, err := NewHandler(fus, opts...)
	if err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	health, err := edge.NewHealth(nil, cfg.edge...)
	if err != nil {
		return nil, err
	}

	guarded := edge.Chain(
		hmacsig.Require(verifier),
		zone.DetectCompany(cfg.zone...),
		zone.Resolve(dir, cfg.zone...),
	)(h)
	mux := http.NewServeMux()
	mux.Handle(PatternUpload, guarded)
	mux.Handle(PatternPart, guarded)
	mux.Handle(PatternHealth, health.Live())
	// Every error is a problem, also the mux's own 404 and 405.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, ErrNotFound) })

	chain := []func(http.Handler) http.Handler{
		tracing.Middleware("upload", append([]tracing.Option{tracing.Root()}, cfg.tracing...)...),
	}
	if cfg.flags != nil {
		chain = append(chain, cfg.flags)
	}
	chain = append(chain, edge.RequestID(cfg.edge...), edge.AccessLog(cfg.edge...), edge.Recover(cfg.edge...))
	if cfg.cors != nil {
		chain = append(chain, cfg.cors)
	}
	// The stages above pass on copies of the request; Route names the span
	// after the pattern the mux picks.
	chain = append(chain, tracing.Route)
	return edge.Chain(chain...)(mux), nil
}
