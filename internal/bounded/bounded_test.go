package bounded_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/bounded"
)

// A callee that ignores its context is abandoned at the deadline; its
// context is cancelled as Call returns.
func TestCallReturnsAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	sawCancel := make(chan struct{})
	start := time.Now()
	v, err := bounded.Call(context.Background(), 50*time.Millisecond, func(ctx context.Context) (int, error) {
		<-release // ignores ctx, as a socket read without a deadline does
		<-ctx.Done()
		close(sawCancel)
		return 1, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || v != 0 {
		t.Fatalf("Call = %v, %v; want 0 and a deadline error", v, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Call returned after %v, want about 50ms", took)
	}
	release <- struct{}{}
	<-sawCancel
}

// The caller's context ends a call too, and a callee that answers in time
// has its answer returned.
func TestCallAnswersAndCancels(t *testing.T) {
	v, err := bounded.Call(context.Background(), time.Hour, func(context.Context) (string, error) { return "ok", nil })
	if v != "ok" || err != nil {
		t.Fatalf("Call = %q, %v", v, err)
	}
	boom := errors.New("boom")
	if err := bounded.Do(context.Background(), time.Hour, func(context.Context) error { return boom }); err != boom {
		t.Fatalf("Do = %v, want the callee's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	block := make(chan struct{})
	defer close(block)
	go cancel()
	if err := bounded.Do(ctx, time.Hour, func(context.Context) error { <-block; return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with the caller's context cancelled = %v", err)
	}
}
