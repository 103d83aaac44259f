package edge

import (
	"context"
	"sync/atomic"
)

// problemObserver is the function SetProblemObserver installed, or nil.
var problemObserver atomic.Pointer[func(ctx context.Context, status int, code string)]

// SetProblemObserver makes [WriteProblem] call f with the status and the
// code of every problem it writes, for metrics: edge imports nothing but the
// standard library, so it counts nothing itself, and tracing.Instruments's
// Problem method is the observer that counts them with OpenTelemetry.
// [WriteProblem] is the only writer of problems, so f sees each problem
// once, whichever stage refused the request. f must be fast and must not
// block; it sees no detail and no cause, only what a client sees too.
//
// It is process-wide, like slog.SetDefault: set it once, at start-up. nil
// removes the observer (the default), and then WriteProblem pays one atomic
// load.
func SetProblemObserver(f func(ctx context.Context, status int, code string)) {
	if f == nil {
		problemObserver.Store(nil)
		return
	}
	problemObserver.Store(&f)
}

// observeProblem tells the observer, if any, about p.
func observeProblem(ctx context.Context, p *Problem) {
	if f := problemObserver.Load(); f != nil {
		(*f)(ctx, p.status, p.code)
	}
}
