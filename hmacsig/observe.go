package hmacsig

import (
	"context"
	"errors"

	"github.com/cellgate/cellgate/edge"
)

// OutcomeOK is the outcome an Observer is told of for a request whose
// signature verified; every other outcome is the problem code of the
// refusal (signature_missing, signature_expired, …).
const OutcomeOK = "ok"

// Observer is told the outcome of every verification of a Verifier
// ([Verifier.Verify] and [Require]), for metrics. Its method takes only
// standard types, so tracing.Instruments implements it with OpenTelemetry
// instruments while hmacsig imports nothing beyond edge. It is called on
// the request path and must be fast and not block.
type Observer interface {
	// SignatureVerified is told OutcomeOK or the problem code of the
	// refusal.
	SignatureVerified(ctx context.Context, outcome string)
}

// WithObserver makes a Verifier ([NewVerifier]) tell o the outcome of every
// verification. The default (or nil) is no observer.
func WithObserver(o Observer) VerifierOption {
	return verifierOpt{"WithObserver", func(c *config) error { c.observer = o; return nil }}
}

func (v *Verifier) observe(ctx context.Context, err error) {
	if v.obs == nil {
		return
	}
	if err == nil {
		v.obs.SignatureVerified(ctx, OutcomeOK)
		return
	}
	v.obs.SignatureVerified(ctx, problemCode(err))
}

// problemCode is the code of the problem err is or wraps. Verify returns a
// *edge.Problem itself, which the type assertion finds without the
// allocation errors.As costs.
func problemCode(err error) string {
	if p, ok := err.(*edge.Problem); ok {
		return p.Code()
	}
	var p *edge.Problem
	if errors.As(err, &p) {
		return p.Code()
	}
	return edge.ErrInternal.Code()
}
