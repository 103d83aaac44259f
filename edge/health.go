package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Check is one named readiness check.
type Check struct {
	// Name identifies the check in the JSON answer; unique per Health.
	Name string
	// Timeout bounds one run; zero takes the Health default
	// ([WithCheckTimeout], [DefaultCheckTimeout] by default).
	Timeout time.Duration
	// Run returns nil when the dependency is ready.
	Run func(ctx context.Context) error
}

// Health answers liveness and readiness probes.
type Health struct {
	checks []Check
	log    *slog.Logger
}

// NewHealth returns a Health running checks on every readiness probe. Names
// must be non-empty and unique, and every check needs a Run function.
// Its options are [WithCheckTimeout] and [WithLogger].
func NewHealth(checks []Check, opts ...HealthOption) (*Health, error) {
	c, err := newConfig("NewHealth", opts, HealthOption.healthOption)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(checks))
	out := make([]Check, len(checks))
	for i, ch := range checks {
		switch {
		case ch.Name == "":
			return nil, errors.New("edge: health check without a name")
		case seen[ch.Name]:
			return nil, fmt.Errorf("edge: health check %q named twice", ch.Name)
		case ch.Run == nil:
			return nil, fmt.Errorf("edge: health check %q has no Run function", ch.Name)
		}
		seen[ch.Name] = true
		if ch.Timeout <= 0 {
			ch.Timeout = c.checkLimit
		}
		out[i] = ch
	}
	return &Health{checks: out, log: c.log()}, nil
}

// Live answers 200 {"status":"ok"} while the process can serve at all.
func (h *Health) Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// CheckResult is the outcome of one check in a readiness answer.
type CheckResult struct {
	Status     string `json:"status"` // "ok", "fail" or "timeout"
	DurationMS int64  `json:"duration_ms"`
}

// Report is the readiness answer.
type Report struct {
	Status string                 `json:"status"` // "ok" or "fail"
	Checks map[string]CheckResult `json:"checks"`
}

// Ready runs every check concurrently, each under its timeout, and answers
// the Report as JSON: 200 when all pass, 503 when any fails. A check's
// error goes to the log, not to the response.
func (h *Health) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := h.Run(r.Context())
		status := http.StatusOK
		if rep.Status != "ok" {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, status, rep)
	})
}

// Run runs the checks once and returns the report.
func (h *Health) Run(ctx context.Context) Report {
	rep := Report{Status: "ok", Checks: make(map[string]CheckResult, len(h.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, ch.Timeout)
			defer cancel()
			start := time.Now()
			err := runCheck(cctx, ch.Run)
			res := CheckResult{Status: "ok", DurationMS: time.Since(start).Milliseconds()}
			if err != nil {
				res.Status = "fail"
				if cctx.Err() == context.DeadlineExceeded {
					res.Status = "timeout"
				}
				h.log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed",
					slog.String("check", ch.Name), slog.String("error", err.Error()))
			}
			mu.Lock()
			rep.Checks[ch.Name] = res
			if err != nil {
				rep.Status = "fail"
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return rep
}

// runCheck runs fn but returns when ctx ends even if fn ignores it.
func runCheck(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("panic: %v", v)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
