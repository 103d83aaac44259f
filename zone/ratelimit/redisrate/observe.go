package redisrate

import (
	"context"

	"github.com/cellgate/cellgate/zone/ratelimit"
)

// WithObserver makes the middleware tell o every decision, as
// ratelimit.WithObserver does, and ratelimit.DecisionFailedOpen for a
// request let through because Redis did not answer. The default (or nil)
// is no observer.
func WithObserver(o ratelimit.Observer) Option {
	return newOpt{"WithObserver", func(c *config) error { c.observer = o; return nil }}
}

func (l *Limiter) observe(ctx context.Context, res Result, err error) {
	switch {
	case l.obs == nil:
	case err != nil:
		l.obs.RateLimitDecision(ctx, ratelimit.DecisionFailedOpen)
	case res.Allowed:
		l.obs.RateLimitDecision(ctx, ratelimit.DecisionAllowed)
	default:
		l.obs.RateLimitDecision(ctx, ratelimit.DecisionLimited)
	}
}
