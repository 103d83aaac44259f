package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeTimers is a headerClock that moves only when told: Advance runs, in
// the caller's goroutine, every timer it makes due.
type fakeTimers struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeTimers
	at    time.Time
	f     func()
	ended bool // fired or stopped
}

func newFakeTimers() *fakeTimers {
	return &fakeTimers{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeTimers) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeTimers) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.ended
	t.ended = true
	return was
}

// Advance moves the clock by d and runs the timers due, those they set
// included.
func (c *fakeTimers) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	for {
		var due *fakeTimer
		for _, t := range c.timers {
			if !t.ended && !t.at.After(c.now) {
				due = t
				break
			}
		}
		if due == nil {
			break
		}
		due.ended = true
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.mu.Unlock()
}

// steppedBody is a request body the test hands out piece by piece: each
// Read says it has begun on entered, then waits for a piece (a closed
// pieces is the end of the body). A Read in flight is a callee waiting on
// the client.
type steppedBody struct {
	entered chan struct{}
	pieces  chan []byte
}

func newSteppedBody() *steppedBody {
	return &steppedBody{entered: make(chan struct{}), pieces: make(chan []byte)}
}

func (b *steppedBody) Read(p []byte) (int, error) {
	b.entered <- struct{}{}
	piece, ok := <-b.pieces
	if !ok {
		return 0, io.EOF
	}
	return copy(p, piece), nil
}

func (b *steppedBody) Close() error { return nil }

// within fails the test unless ch delivers within a bound that only
// catches a hang.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// nextRead waits for the upstream to wait on the body, and fails the test if
// the proxy answered first.
func nextRead(t *testing.T, body *steppedBody, done <-chan *httptest.ResponseRecorder) {
	t.Helper()
	select {
	case <-body.entered:
	case rec := <-done:
		t.Fatalf("answered %d %s while the body was still moving", rec.Code, problemCode(rec))
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the upstream to wait on the body")
	}
}

// proxyOverBinding is a proxy to h over a Binding with header timeout d on
// the clock c. The upstream call's context is sent on the channel: the
// timer cancels it from within clock.Advance, so a test sees at once
// whether it fired.
func proxyOverBinding(t *testing.T, h http.Handler, d time.Duration, c headerClock) (*Proxy, <-chan context.Context) {
	t.Helper()
	p, err := ProxyTo("http://auth.internal", WithTransport(Binding(h)), WithResponseHeaderTimeout(d))
	if err != nil {
		t.Fatal(err)
	}
	ht, ok := p.rp.Transport.(headerTimeout)
	if !ok {
		t.Fatalf("the proxy's transport is a %T, want a headerTimeout", p.rp.Transport)
	}
	ctxs := make(chan context.Context, 1)
	ht.clock = c
	ht.next = ctxSpy{ht.next, ctxs}
	p.rp.Transport = ht
	return p, ctxs
}

// ctxSpy sends the context of each request on ctxs.
type ctxSpy struct {
	next http.RoundTripper
	ctxs chan<- context.Context
}

func (s ctxSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	s.ctxs <- r.Context()
	return s.next.RoundTrip(r)
}

// notTimedOut fails the test if the header timeout cut the upstream call.
func notTimedOut(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("%s: the upstream call ended: %v", when, err)
	}
}

// serveAsync serves req with h and delivers the recorder when h returned.
func serveAsync(h http.Handler, req *http.Request) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		done <- rec
	}()
	return done
}

func problemCode(rec *httptest.ResponseRecorder) string {
	var p struct{ Code string }
	json.Unmarshal(rec.Body.Bytes(), &p)
	return p.Code
}

// A request body still moving keeps the upstream waiting on the client, not
// silent: 40 KiB in 4 KiB pieces, the clock moved past the header timeout
// before each, is answered 200 through a proxy over a binding, as through
// http.Transport, whose wait starts once the request has been written.
func TestHeaderTimeoutBodyStillMoving(t *testing.T) {
	const d, piece, pieces = 2 * time.Second, 4 << 10, 10
	clock := newFakeTimers()
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, n)
	})
	body := newSteppedBody()
	req := httptest.NewRequest(http.MethodPost, "/login", body)
	req.ContentLength = piece * pieces
	p, ctxs := proxyOverBinding(t, login, d, clock)
	done := serveAsync(p, req)
	ctx := within(t, ctxs, "the upstream call")

	for i := range pieces {
		nextRead(t, body, done)
		clock.Advance(d + time.Second)
		notTimedOut(t, ctx, fmt.Sprintf("waiting on piece %d", i))
		body.pieces <- make([]byte, piece)
	}
	nextRead(t, body, done)
	clock.Advance(d + time.Second)
	notTimedOut(t, ctx, "waiting on the end of the body")
	close(body.pieces)

	rec := within(t, done, "the response")
	if rec.Code != http.StatusOK || rec.Body.String() != fmt.Sprint(piece*pieces) {
		t.Errorf("got %d %q (%s), want 200 %d", rec.Code, rec.Body, problemCode(rec), piece*pieces)
	}
}

// The wait starts once the upstream has read the whole body: an upstream
// that then never answers is 504 upstream_timeout after the timeout, not
// before.
func TestHeaderTimeoutAfterBody(t *testing.T) {
	const d = 2 * time.Second
	clock := newFakeTimers()
	read := make(chan struct{})
	hung := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(read)
		<-r.Context().Done()
	})
	body := newSteppedBody()
	req := httptest.NewRequest(http.MethodPost, "/login", body)
	req.ContentLength = 5
	p, ctxs := proxyOverBinding(t, hung, d, clock)
	done := serveAsync(p, req)
	ctx := within(t, ctxs, "the upstream call")

	nextRead(t, body, done)
	clock.Advance(d + time.Second) // the client is slow: not the upstream's fault
	notTimedOut(t, ctx, "waiting on the client")
	body.pieces <- []byte("hello")
	nextRead(t, body, done)
	close(body.pieces)
	within(t, read, "the upstream to have read the body")

	clock.Advance(d - time.Millisecond)
	notTimedOut(t, ctx, "short of the timeout after the body")
	clock.Advance(time.Millisecond)
	if cause := context.Cause(ctx); cause != (headerTimeoutError{d}) {
		t.Errorf("at the timeout after the body: the upstream call's cause is %v, want %v", cause, headerTimeoutError{d})
	}
	rec := within(t, done, "the 504")
	if rec.Code != http.StatusGatewayTimeout || problemCode(rec) != "upstream_timeout" {
		t.Errorf("got %d %s, want 504 upstream_timeout", rec.Code, problemCode(rec))
	}
}

// An upstream that stops reading the body, or never starts, and does not
// answer is as silent as one that read it all: 504 after the timeout. Over
// the network the socket's buffers would take a small body; a binding has
// none, so waiting for the end of the body would wait for ever.
func TestHeaderTimeoutBodyUnread(t *testing.T) {
	const d = 2 * time.Second
	for _, reads := range []int{0, 1} {
		t.Run(fmt.Sprintf("%d reads", reads), func(t *testing.T) {
			clock := newFakeTimers()
			stopped := make(chan struct{})
			hung := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 8)
				for range reads {
					r.Body.Read(buf)
				}
				close(stopped)
				<-r.Context().Done()
			})
			body := newSteppedBody()
			req := httptest.NewRequest(http.MethodPost, "/upload", body)
			req.ContentLength = 1 << 20
			p, _ := proxyOverBinding(t, hung, d, clock)
			done := serveAsync(p, req)
			for range reads {
				within(t, body.entered, "the upstream to wait on the body")
				body.pieces <- []byte("piece")
			}
			within(t, stopped, "the upstream to stop reading")

			clock.Advance(d)
			rec := within(t, done, "the 504")
			if rec.Code != http.StatusGatewayTimeout || problemCode(rec) != "upstream_timeout" {
				t.Errorf("got %d %s, want 504 upstream_timeout", rec.Code, problemCode(rec))
			}
		})
	}
}

// Once the header came, reading the rest of the body arms nothing: the
// response streams however long the body takes.
func TestHeaderTimeoutAnsweredBeforeBody(t *testing.T) {
	const d = 2 * time.Second
	clock := newFakeTimers()
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		io.Copy(w, r.Body)
	})
	body := newSteppedBody()
	out, err := http.NewRequest(http.MethodPost, "http://svc/echo", body)
	if err != nil {
		t.Fatal(err)
	}
	rt := headerTimeout{next: Binding(echo), d: d, clock: clock}
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := rt.RoundTrip(out)
		done <- result{resp, err}
	}()
	res := within(t, done, "the header")
	if res.err != nil {
		t.Fatal(res.err)
	}
	defer res.resp.Body.Close()
	got := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(res.resp.Body)
		if err != nil {
			b = append(b, " ["+err.Error()+"]"...)
		}
		got <- string(b)
	}()
	for _, p := range []string{"a", "b", "c"} {
		within(t, body.entered, "the upstream to wait on the body")
		clock.Advance(d + time.Second)
		body.pieces <- []byte(p)
	}
	within(t, body.entered, "the upstream to read the end of the body")
	clock.Advance(d + time.Second)
	close(body.pieces)
	if b := within(t, got, "the response body"); b != "abc" {
		t.Errorf("body %q, want abc", b)
	}
	if res.resp.StatusCode != http.StatusAccepted {
		t.Errorf("status %d, want 202", res.resp.StatusCode)
	}
}
