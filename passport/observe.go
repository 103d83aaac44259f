package passport

import (
	"context"
	"errors"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// Observer is told what a Gateway and a Verifier do, for metrics. Its
// methods take only standard types, so tracing.Instruments implements it with
// OpenTelemetry instruments while passport imports none.
// Methods are called on the request path and must be fast and not block;
// none is told a session, a user or a company.
type Observer interface {
	// PassportCache is told, for a Gateway of zone, whether a request's
	// passport came from the gateway's cache.
	PassportCache(ctx context.Context, zone string, hit bool)
	// PassportMint is told, for a Gateway of zone, how long one call of
	// the authentication service for a passport took and its outcome:
	// "ok" or the problem code of the refusal.
	PassportMint(ctx context.Context, zone string, d time.Duration, outcome string)
	// PassportRejected is told the problem code (passport_missing,
	// passport_invalid, passport_expired, passport_lifetime_too_long,
	// passport_keys_unavailable, passport_keys_stale) of a request that
	// a Verifier's Middleware refused.
	PassportRejected(ctx context.Context, code string)
	// RevocationNotice is told the kind of every revocation notice a
	// Gateway receives: "session", "user", "company", or "resubscribe" for
	// the flush a shared store delivers whenever its notice channel
	// (re)subscribes, at every start-up too (Revocation.All: notices may
	// have been missed, so everything cached is dropped). A resubscribe is
	// no revocation by anyone and is not counted as one.
	RevocationNotice(ctx context.Context, kind string)
	// RevocationLag is told, for a notice that carries its time
	// (Revocation.At: a shared store's notice from another replica), how
	// long after it was announced the Gateway received it.
	RevocationLag(ctx context.Context, lag time.Duration)
}

// WithObserver makes a Gateway (NewGateway) or a Verifier (NewVerifier)
// tell o what it does. The default (also for nil) is no observer.
func WithObserver(o Observer) ObserverOption {
	return ObserverOption{option{"WithObserver", func(c *config) error { c.observer = o; return nil }}}
}

// outcomeCode is the code a client sees for err.
func outcomeCode(err error) string {
	if err == nil {
		return "ok"
	}
	if p, ok := err.(*edge.Problem); ok { // no allocation, unlike errors.As
		return p.Code()
	}
	var p *edge.Problem
	if errors.As(err, &p) {
		return p.Code()
	}
	return edge.ErrInternal.Code()
}

func (g *Gateway) observeCache(ctx context.Context, hit bool) {
	if g.obs != nil {
		g.obs.PassportCache(ctx, g.zone, hit)
	}
}

// askObserved is ask, observed.
func (g *Gateway) askObserved(ctx context.Context, key cacheKey) (*entry, error) {
	if g.obs == nil {
		return g.ask(ctx, key)
	}
	start := g.now()
	e, err := g.ask(ctx, key)
	g.obs.PassportMint(ctx, g.zone, g.now().Sub(start), outcomeCode(err))
	return e, err
}

func (g *Gateway) observeRevocation(rev Revocation) {
	if g.obs == nil {
		return
	}
	kind := "session"
	switch {
	case rev.All:
		kind = "resubscribe" // a local flush on (re)subscription, not a mass revocation
	case rev.Company != "":
		kind = "company"
	case rev.User != "":
		kind = "user"
	}
	g.obs.RevocationNotice(context.Background(), kind)
	if !rev.At.IsZero() {
		g.obs.RevocationLag(context.Background(), max(g.now().Sub(rev.At), 0))
	}
}

func (v *Verifier) observeRejected(ctx context.Context, err error) {
	if v.obs != nil {
		v.obs.PassportRejected(ctx, outcomeCode(err))
	}
}
