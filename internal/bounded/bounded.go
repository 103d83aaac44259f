// Package bounded runs a call under a deadline that holds whether or not
// the callee honours its context. go-redis, for one, ignores a context's
// deadline on the socket unless the client was built with
// ContextTimeoutEnabled, and then waits out the client's ReadTimeout (5 s
// by default) on a hung server; a library that takes the user's client
// cannot assume the option is set. Call returns when the deadline passes
// even if the callee is still blocked.
//
// The callee keeps running in its goroutine until it returns by itself.
// Its context is cancelled when Call returns, so whatever it still waits
// for that honours the context (a pool slot, a dial, a retry back-off)
// ends at once; only a read or write already on the socket runs to the
// client's own timeout. With go-redis that is at most one connection per
// abandoned call, so at most the client's PoolSize calls linger, each for
// at most its ReadTimeout or WriteTimeout.
package bounded

import (
	"context"
	"fmt"
	"time"
)

// Call runs f with a context that ends after d, or when ctx ends if that
// is sooner, and returns f's result or, as soon as that context ends, the
// zero T and an error wrapping the context's (context.DeadlineExceeded or
// context.Canceled), whichever comes first. d must be positive.
func Call[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned f does not block on it
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // finished just as the deadline passed: keep its answer
			return r.v, r.err
		default:
		}
		var zero T
		return zero, fmt.Errorf("no answer within %v: %w", d, context.Cause(ctx))
	}
}

// Do is Call for a function that returns only an error.
func Do(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	_, err := Call(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}
