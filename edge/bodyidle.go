package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// DefaultBodyIdle is how long [BodyIdle] lets one read of a request body
// wait for a byte when [WithBodyIdle] gives no other idle timeout.
const DefaultBodyIdle = 30 * time.Second

// ErrBodyTimeout is the error a handler reads from a request body that
// stalled under [BodyIdle], and the problem a [Proxy] answers when its
// upstream call failed because of it.
var ErrBodyTimeout = NewProblem(http.StatusRequestTimeout, "body_timeout",
	"The request body stopped arriving.")

var bodyGuardKey = NewKey[*bodyGuard]("edge.body_guard")

// BodyIdle puts a sliding idle deadline on the request body: a read that
// waits longer than the idle timeout ([WithBodyIdle], [DefaultBodyIdle] by
// default) without a byte fails with [ErrBodyTimeout], the request's
// context is cancelled with it as the cause, and the connection is closed
// after the response. An invalid option is an error.
//
// The deadline runs only while a read is in flight (it is set before each
// read and cleared after), so a handler busy elsewhere, a proxy waiting on
// its upstream, say, is never cut. A handler that returns before the body
// ended gets the server's drain of the rest bounded by idle too.
//
// It uses the connection's read deadline (http.ResponseController); where
// the writer has none (a [Binding], httptest.ResponseRecorder) a timer
// cancels the request and closes the body instead.
//
// A response sent before the body ended closes the connection after it
// (HTTP/1), instead of the server draining the rest with no deadline.
//
// A handler that sets read deadlines itself through http.ResponseController
// (the upload handler does, with its own idle timeout) takes over: from its
// first call on, the guard steps aside for the rest of the request. This
// works through any wrapper that keeps Unwrap, because the guard passes the
// handler a [ResponseWriter].
func BodyIdle(opts ...BodyIdleOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("BodyIdle", opts, BodyIdleOption.bodyIdleOption)
	if err != nil {
		return nil, err
	}
	return bodyIdle(c.bodyIdle), nil
}

// BodyIdleTimeoutOption is [WithBodyIdle]: an option of [BodyIdle] and
// [NewServer].
type BodyIdleTimeoutOption struct{ o option }

func (o BodyIdleTimeoutOption) bodyIdleOption() option { return o.o }
func (o BodyIdleTimeoutOption) serverOption() option   { return o.o }

// WithBodyIdle sets how long one read of a request body may wait for a
// byte under [BodyIdle], and under the guard [NewServer] puts on every
// request. The default (or zero) is [DefaultBodyIdle]; a negative timeout
// is an error.
func WithBodyIdle(idle time.Duration) BodyIdleTimeoutOption {
	return BodyIdleTimeoutOption{option{"WithBodyIdle", func(c *config) error {
		switch {
		case idle < 0:
			return fmt.Errorf("negative idle timeout %v", idle)
		case idle == 0:
			idle = DefaultBodyIdle
		}
		c.bodyIdle = idle
		return nil
	}}}
}

// bodyIdle is the middleware of BodyIdle with a valid idle timeout.
func bodyIdle(idle time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			rw := WrapResponseWriter(w)
			ctx, cancel := context.WithCancelCause(r.Context())
			defer cancel(nil)
			g := &bodyGuard{cancel: cancel}
			b := &idleBody{src: r.Body, rc: http.NewResponseController(rw.ResponseWriter), idle: idle, g: g}
			g.body = b

			prev := rw.onReadDeadline
			rw.onReadDeadline = func() {
				g.yielded.Store(true)
				if prev != nil {
					prev()
				}
			}
			prevHeader := rw.beforeHeader
			rw.beforeHeader = func() {
				// An HTTP/1 server drains an unread body before it sends
				// the response, with no deadline: a stalled client would
				// hold a handler that answers early (a gateway's 401
				// behind a Binding) forever. Closing the connection after
				// the response skips that drain.
				if r.ProtoMajor == 1 && !b.eof.Load() && !g.yielded.Load() {
					rw.Header().Set("Connection", "close")
				}
				if prevHeader != nil {
					prevHeader()
				}
			}
			defer func() { rw.onReadDeadline, rw.beforeHeader = prev, prevHeader }()

			r = r.WithContext(bodyGuardKey.With(ctx, g))
			r.Body = b
			next.ServeHTTP(rw, r)

			if !b.eof.Load() && !g.yielded.Load() && !g.timedOut.Load() && !b.timer.Load() {
				// The server drains what the handler left unread before it
				// answers, with no deadline of its own.
				_ = b.rc.SetReadDeadline(time.Now().Add(idle))
			}
		})
	}
}

// bodyTimedOut reports whether the body of r stalled under [BodyIdle].
func bodyTimedOut(r *http.Request) bool {
	g := bodyGuardKey.Value(r.Context())
	return g != nil && g.timedOut.Load()
}

// bodyGuard is the state of one request's guard, shared with the context.
type bodyGuard struct {
	cancel   context.CancelCauseFunc
	body     *idleBody
	timedOut atomic.Bool
	yielded  atomic.Bool // the handler manages read deadlines itself
}

// expire is the timer's verdict: the read in flight waited too long.
func (g *bodyGuard) expire() {
	g.timedOut.Store(true)
	g.cancel(ErrBodyTimeout)
	g.body.src.Close() // unblocks the read: a pipe, a binding's body
}

// idleBody is the handler's view of the request body.
type idleBody struct {
	src   io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	g     *bodyGuard
	timer atomic.Bool // the writer has no read deadline: a timer guards reads
	eof   atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	g := b.g
	if g.timedOut.Load() {
		return 0, ErrBodyTimeout
	}
	if g.yielded.Load() || len(p) == 0 {
		return b.note(b.src.Read(p))
	}
	if !b.timer.Load() {
		if b.rc.SetReadDeadline(time.Now().Add(b.idle)) == nil {
			n, err := b.src.Read(p)
			if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !g.yielded.Load() {
				// Leave the deadline expired: the server's drain of the
				// rest fails at once and the connection is closed.
				g.timedOut.Store(true)
				g.cancel(ErrBodyTimeout)
				return n, ErrBodyTimeout.WithCause(err)
			}
			_ = b.rc.SetReadDeadline(time.Time{})
			return b.note(n, err)
		}
		b.timer.Store(true)
	}
	t := time.AfterFunc(b.idle, g.expire)
	n, err := b.src.Read(p)
	if !t.Stop() {
		if n > 0 {
			return n, nil // the bytes count; the next read fails
		}
		return 0, ErrBodyTimeout.WithCause(err)
	}
	return b.note(n, err)
}

func (b *idleBody) note(n int, err error) (int, error) {
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// Close closes the request body. Closing a server's request body drains
// what is left of it (up to 256 KiB) with no deadline of its own, and a
// Binding closes the body of a callee that did not read it while the
// caller still waits: the drain is bounded by idle too, and the deadline
// cleared once it is done, so the server's read for the next request is not
// cut short. A drain that stalls leaves the deadline expired: the
// connection is closed after the response.
func (b *idleBody) Close() error {
	if b.eof.Load() || b.g.yielded.Load() || b.timer.Load() {
		return b.src.Close()
	}
	if b.rc.SetReadDeadline(time.Now().Add(b.idle)) != nil {
		return b.src.Close()
	}
	err := b.src.Close()
	if err == nil {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return err
}
