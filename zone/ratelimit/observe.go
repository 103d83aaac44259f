package ratelimit

import "context"

// The decisions an Observer is told of.
const (
	DecisionAllowed = "allowed"
	DecisionLimited = "limited"
	// DecisionFailedOpen is a request let through because the shared
	// limiter could not decide in time (redisrate).
	DecisionFailedOpen = "failed_open"
)

// Observer is told every decision of New's middleware, for metrics. Its
// method takes only standard types, so tracing.Instruments implements it with
// OpenTelemetry instruments while ratelimit imports none (see DESIGN.md).
// It is called on the request path and must be fast and not block; it is
// never told the key (a company or a client).
type Observer interface {
	// RateLimitDecision is told DecisionAllowed, DecisionLimited or
	// DecisionFailedOpen.
	RateLimitDecision(ctx context.Context, decision string)
}

// WithObserver makes New's middleware tell o every decision. The default
// (or nil) is no observer.
func WithObserver(o Observer) Option {
	return newOpt{"WithObserver", func(c *config) error { c.observer = o; return nil }}
}

func (c *config) observe(ctx context.Context, allowed bool) {
	if c.observer == nil {
		return
	}
	if allowed {
		c.observer.RateLimitDecision(ctx, DecisionAllowed)
		return
	}
	c.observer.RateLimitDecision(ctx, DecisionLimited)
}
