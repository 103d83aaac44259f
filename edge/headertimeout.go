package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultResponseHeaderTimeout is how long [NewProxy] waits for an
// upstream's response header when [WithResponseHeaderTimeout] is not given:
// a hung cell is answered 504 upstream_timeout within it.
const DefaultResponseHeaderTimeout = 30 * time.Second

// headerTimeout bounds the wait for the response header of each request
// with a timer on the request's context, whatever the transport: no
// transport is cloned, and once the header arrived the body streams as long
// as it takes. The wait counts only the upstream's silence, not the time it
// spends waiting on the request body (see headerWait).
type headerTimeout struct {
	next  http.RoundTripper
	d     time.Duration
	clock headerClock // nil: the real one; tests move a fake
}

// boundsResponseHeader reports whether rt already gives up on a response
// header within d: it is, or unwraps to (Unwrap() http.RoundTripper, as
// tracing.Transport does), an *http.Transport whose ResponseHeaderTimeout
// is positive and no longer than d.
func boundsResponseHeader(rt http.RoundTripper, d time.Duration) bool {
	for {
		switch t := rt.(type) {
		case *http.Transport:
			return t.ResponseHeaderTimeout > 0 && t.ResponseHeaderTimeout <= d
		case interface{ Unwrap() http.RoundTripper }:
			rt = t.Unwrap()
		default:
			return false
		}
	}
}

// headerTimeoutError is the cause of a request cut by headerTimeout. It
// wraps context.DeadlineExceeded, so it is a timeout to [proxyError].
type headerTimeoutError struct{ d time.Duration }

func (e headerTimeoutError) Error() string {
	return fmt.Sprintf("edge: upstream sent no response header within %v", e.d)
}
func (e headerTimeoutError) Unwrap() error { return context.DeadlineExceeded }
func (e headerTimeoutError) Timeout() bool { return true }

func (h headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	wait := startHeaderWait(h.timeClock(), h.d, func() { cancel(headerTimeoutError{h.d}) })
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &headerWaitBody{ReadCloser: req.Body, wait: wait}
	}
	resp, err := h.next.RoundTrip(out)
	if !wait.stop() {
		// The timer fired: whatever the transport answered, the cause is
		// the upstream's silence.
		if resp != nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, headerTimeoutError{h.d}
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The body is the upgraded connection, an io.ReadWriteCloser that
		// ReverseProxy needs as it is; the context ends with the inbound
		// request's.
		return resp, nil
	}
	// The request's context must live until the body is read.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose ends a request's context when its response body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// WithResponseHeaderTimeout bounds how long [NewProxy] and [ProxyTo] wait
// for the upstream's response header, per request and whatever the
// transport; the body is not bounded. The default (or zero) is
// [DefaultResponseHeaderTimeout] (30 s); a negative timeout is an error.
//
// The wait starts once the request has been sent, as http.Transport's
// ResponseHeaderTimeout does: a request body still arriving from the client
// does not count. Through a transport other than an *http.Transport (a
// [Binding]), it starts when the upstream has read the body to its end, and
// the time the upstream spends waiting on the client in a read of the body
// never counts; an upstream that stops reading the body, or never reads
// it, for the timeout without answering is answered 504 upstream_timeout
// as a silent one is.
func WithResponseHeaderTimeout(d time.Duration) ProxyOption {
	return proxyOpt{"WithResponseHeaderTimeout", func(c *config) error {
		switch {
		case d < 0:
			return fmt.Errorf("negative timeout %v", d)
		case d == 0:
			d = DefaultResponseHeaderTimeout
		}
		c.headerTimeout = d
		return nil
	}}
}
