package upload

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// New returns the whole upload service, this chain around a Handler:
//
//	tracing.Middleware("upload", tracing.Root())  root span; inbound trace context is a link
//	→ flags                                       WithFlagsMiddleware, optional
//	→ edge.RequestID, edge.AccessLog, edge.Recover
//	→ CORS                                        WithCORS, optional; preflights need no signature
//	→ ServeMux: PatternHealth (no signature), PatternUpload and PatternPart
//	  (or WithPatterns; anything else is a 404 edge.ErrNotFound problem):
//	    hmacsig.Require(verifier)                 the upload key; verified first, so an
//	                                              unsigned request never costs a lookup
//	    → zone.DetectCompany (from the path) → zone.Resolve(dir) → Handler
//
// Assemble it yourself from the same exported pieces to change the order
// or add stages. Its options are the ServiceOptions: every HandlerOption
// (New builds its Handler with them), WithTracerProvider,
// WithCompanyIDRule, and those that configure the chain.
func New(verifier *hmacsig.Verifier, dir zone.Directory, fus *Client, opts ...ServiceOption) (http.Handler, error) {
	if verifier == nil || dir == nil {
		return nil, errors.New("upload: New: a verifier for the upload key and a zone directory are required")
	}
	cfg, err := newConfig("New", opts, ServiceOption.serviceOption)
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
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, edge.ErrNotFound) })
	routes := refuseUncleanPaths(mux)

	span, err := tracing.Middleware("upload", tracing.Root(), tracing.WithTracerProvider(cfg.provider))
	if err != nil {
		return nil, err
	}
	chain := []func(http.Handler) http.Handler{span}
	if cfg.flags != nil {
		chain = append(chain, cfg.flags)
	}
	log := edge.WithLogger(cfg.logger)
	requestID, err := edge.RequestID(edge.WithTrust(cfg.trust))
	if err != nil {
		return nil, err
	}
	accessLog, err := edge.AccessLog(log)
	if err != nil {
		return nil, err
	}
	recoverer, err := edge.Recover(log)
	if err != nil {
		return nil, err
	}
	chain = append(chain, requestID, accessLog, recoverer)
	if cfg.cors != nil {
		chain = append(chain, cfg.cors)
	}
	// The stages above pass on copies of the request; Route names the span
	// after the pattern the mux picks.
	chain = append(chain, tracing.Route)
	return edge.Chain(chain...)(routes), nil
}

// zoneStages puts signature verification and zone resolution before h. A
// zone option that zone's constructors refuse is New's error.
func zoneStages(verifier *hmacsig.Verifier, dir zone.Directory, cfg *config, h http.Handler) (http.Handler, error) {
	require, err := hmacsig.Require(verifier)
	if err != nil {
		return nil, fmt.Errorf("upload: New: %w", err)
	}
	detect, err := zone.DetectCompany(cfg.detect...)
	if err != nil {
		return nil, fmt.Errorf("upload: New: %w", err)
	}
	resolve, err := zone.Resolve(dir, cfg.resolve...)
	if err != nil {
		return nil, fmt.Errorf("upload: New: %w", err)
	}
	return edge.Chain(require, detect, resolve)(h), nil
}

// refuseUncleanPaths answers a path with an empty or dot segment 403
// signature_malformed, as the signed-URL syntax has it (hmacsig/SPEC.md),
// before the ServeMux sees it: the mux would redirect it to its cleaned
// form, quoting the signed query string in Location.
func refuseUncleanPaths(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "" && (strings.Contains(p, "//") || hasDotSegment(p)) {
			edge.WriteProblem(w, r, hmacsig.ErrMalformed.WithCause(errors.New("upload: the path has an empty or dot segment")))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
