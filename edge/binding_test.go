package edge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// settleGoroutines waits, within a bound, for the goroutine count to fall
// back to at most want, and fails with every stack if it does not.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), want, buf)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // poll interval, not a wait for an outcome
	}
}

// wait fails the test unless ch is closed within a bound.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestBindingRequest(t *testing.T) {
	var in *http.Request
	var body string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("X-Answer", "42")
		w.Header().Set("Content-Length", "7")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created")
	})
	req, _ := http.NewRequest("POST", "http://files.internal/a%2Fb/c?x=1&y=2", strings.NewReader("payload"))
	req.Header.Set("X-Caller", "gateway")
	resp, err := edge.Binding(h).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, resp.Body)

	checks := []struct {
		name      string
		got, want any
	}{
		{"method", in.Method, "POST"},
		{"path", in.URL.Path, "/a/b/c"},
		{"raw path", in.URL.EscapedPath(), "/a%2Fb/c"},
		{"query", in.URL.RawQuery, "x=1&y=2"},
		{"no scheme or host in URL, as on a server", in.URL.Host + in.URL.Scheme, ""},
		{"host", in.Host, "files.internal"},
		{"request URI", in.RequestURI, "/a%2Fb/c?x=1&y=2"},
		{"remote", in.RemoteAddr, "binding"},
		{"proto", in.Proto, "HTTP/1.1"},
		{"header", in.Header.Get("X-Caller"), "gateway"},
		{"content length", in.ContentLength, int64(7)},
		{"body", body, "payload"},
		{"status", resp.StatusCode, 201},
		{"status line", resp.Status, "201 Created"},
		{"response header", resp.Header.Get("X-Answer"), "42"},
		{"response length", resp.ContentLength, int64(7)},
		{"response body", got, "created"},
		{"response request", resp.Request, req},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The callee's header is a copy: changing it leaves the caller's alone.
	in.Header.Set("X-Caller", "changed")
	if req.Header.Get("X-Caller") != "gateway" {
		t.Error("the callee shares the caller's header map")
	}
}

func TestBindingStatusWithoutBody(t *testing.T) {
	tests := []struct {
		method string
		status int
	}{
		{"HEAD", 200},
		{"GET", 204},
		{"GET", 304},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.method, tt.status), func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				if n, err := io.WriteString(w, "ignored"); n != 7 || err != nil {
					t.Errorf("write on a bodiless response = %d, %v; want discarded", n, err)
				}
			})
			req, _ := http.NewRequest(tt.method, "http://svc/", nil)
			resp, err := edge.Binding(h).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || resp.Body != http.NoBody || resp.ContentLength != 0 {
				t.Errorf("got %d, body %T, length %d", resp.StatusCode, resp.Body, resp.ContentLength)
			}
		})
	}
}

func TestBindingImplicitStatus(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
		body string
	}{
		{"returns without writing", func(http.ResponseWriter, *http.Request) {}, ""},
		{"writes without a header", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") }, "hi"},
		{"1xx then final", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "x")
		}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := (&http.Client{Transport: edge.Binding(tt.h)}).Get("http://svc/")
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, resp.Body); resp.StatusCode != 200 || got != tt.body {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, got, tt.body)
			}
		})
	}
}

func TestViaBinding(t *testing.T) {
	var via []bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { via = append(via, edge.ViaBinding(r)) })

	resp, err := (&http.Client{Transport: edge.Binding(h)}).Get("http://svc/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if fmt.Sprint(via) != "[true false false]" {
		t.Errorf("ViaBinding = %v, want true through the binding, false from a server and a recorder", via)
	}
}

var callerKey = edge.NewKey[string]("test.caller")

func TestBindingFreshContext(t *testing.T) {
	var sawValue, sawID, sawHeader string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawValue = callerKey.Value(r.Context())
		sawID = edge.RequestIDFromContext(r.Context())
		sawHeader = r.Header.Get(edge.RequestIDHeader)
	})
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"request ID sent from the context", "", "caller-id"},
		{"explicit header wins", "explicit-id", "explicit-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := callerKey.With(edge.ContextWithRequestID(context.Background(), "caller-id"), "secret-value")
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://svc/", nil)
			if tt.header != "" {
				req.Header.Set(edge.RequestIDHeader, tt.header)
			}
			resp, err := edge.Binding(h).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if sawValue != "" || sawID != "" {
				t.Errorf("callee saw caller's context values %q, %q", sawValue, sawID)
			}
			if sawHeader != tt.want {
				t.Errorf("callee's X-Request-Id = %q, want %q", sawHeader, tt.want)
			}
		})
	}

	// With RequestID trusting bindings, the callee adopts the caller's ID.
	var adopted string
	callee := must.Build(edge.RequestID(edge.WithTrust(edge.TrustBinding)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		adopted = edge.RequestIDFromContext(r.Context())
	}))
	req, _ := http.NewRequestWithContext(edge.ContextWithRequestID(context.Background(), "caller-id"), "GET", "http://svc/", nil)
	resp, err := edge.Binding(callee).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if adopted != "caller-id" || resp.Header.Get(edge.RequestIDHeader) != "caller-id" {
		t.Errorf("callee's request ID = %q (echoed %q), want caller-id", adopted, resp.Header.Get(edge.RequestIDHeader))
	}
}

func TestBindingStreams(t *testing.T) {
	// The response reaches the caller while the handler is still writing,
	// and the request body reaches the handler while the caller is still
	// sending.
	proceed := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		io.ReadFull(r.Body, buf) // the caller has sent only this much
		w.Write(buf)
		w.(http.Flusher).Flush()
		<-proceed
		io.Copy(w, r.Body)
	})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", "http://svc/", pr)
	go pw.Write([]byte("first"))
	resp, err := edge.Binding(h).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first" {
		t.Fatalf("first chunk = %q, %v", first, err)
	}
	close(proceed)
	go func() {
		io.WriteString(pw, " second")
		pw.Close()
	}()
	if rest := readAll(t, resp.Body); rest != " second" {
		t.Errorf("rest = %q", rest)
	}
}

// pattern fills generated bodies cheaply.
var pattern = []byte(strings.Repeat("cellgate", 4<<10))

// generated is an io.Reader of n generated bytes, with no WriteTo, so a copy
// from it goes through a fixed buffer.
type generated struct{ n int64 }

func (g *generated) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	n := copy(p, pattern)
	g.n -= int64(n)
	return n, nil
}

func TestBindingGiBConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 GiB: 0.2 s, but about 8 s under -race; runs in CI")
	}
	const size = 1 << 30
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			t.Errorf("handler reading: %v", err)
		}
		w.Header().Set("X-Received", strconv.FormatInt(n, 10))
		io.Copy(w, &generated{n: size})
	})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	req, _ := http.NewRequest("PUT", "http://svc/big", &generated{n: size})
	req.ContentLength = size
	resp, err := edge.Binding(h).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)

	if err != nil || n != size || resp.Header.Get("X-Received") != strconv.Itoa(size) {
		t.Fatalf("sent %s, received %d (%v)", resp.Header.Get("X-Received"), n, err)
	}
	const limit = 8 << 20
	if grew := after.TotalAlloc - before.TotalAlloc; grew > limit {
		t.Errorf("2 GiB through the binding allocated %d bytes, want under %d", grew, limit)
	}
	if after.HeapInuse > before.HeapInuse && after.HeapInuse-before.HeapInuse > limit {
		t.Errorf("heap in use grew by %d bytes", after.HeapInuse-before.HeapInuse)
	}
}

func TestBindingCancel(t *testing.T) {
	t.Run("before the response", func(t *testing.T) {
		started, done := make(chan struct{}), make(chan struct{})
		var cause error
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
			cause = context.Cause(r.Context())
			close(done)
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://svc/", nil)
		resp, err := edge.Binding(h).RoundTrip(req)
		if !errors.Is(err, context.Canceled) || resp != nil {
			t.Errorf("RoundTrip = %v, %v; want context.Canceled", resp, err)
		}
		wait(t, done, "the handler to stop")
		if !errors.Is(cause, context.Canceled) {
			t.Errorf("handler's context cause = %v", cause)
		}
	})

	t.Run("while streaming", func(t *testing.T) {
		done := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			io.WriteString(w, "first")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			// The handler returns normally: the caller must still see the
			// body cut short, not a clean end.
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://svc/", nil)
		resp, err := edge.Binding(h).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make([]byte, 5)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatal(err)
		}
		cancel()
		wait(t, done, "the handler to stop")
		if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
			t.Errorf("reading after cancel: %v, want context.Canceled", err)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		called := false
		body := &closeSpy{Reader: strings.NewReader("x")}
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://svc/", body)
		_, err := edge.Binding(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).RoundTrip(req)
		if !errors.Is(err, context.Canceled) || called || !body.closed {
			t.Errorf("err %v, handler called %v, body closed %v", err, called, body.closed)
		}
	})
}

type closeSpy struct {
	io.Reader
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }

func TestBindingCloseBodyEarly(t *testing.T) {
	done := make(chan struct{})
	var writeErr, ctxErr error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		chunk := make([]byte, 1024)
		for writeErr == nil {
			_, writeErr = w.Write(chunk)
		}
		<-r.Context().Done()
		ctxErr = r.Context().Err()
	})
	resp, err := edge.Binding(h).RoundTrip(httptest.NewRequest("GET", "http://svc/", nil).WithContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, resp.Body, 10_000)
	resp.Body.Close()
	wait(t, done, "the handler to stop")
	if writeErr == nil || ctxErr == nil {
		t.Errorf("after Close: handler write error %v, context error %v; want both", writeErr, ctxErr)
	}
}

func TestBindingPanic(t *testing.T) {
	logger, buf := newLogger()
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)

	tests := []struct {
		name      string
		h         http.HandlerFunc
		roundTrip error // from RoundTrip
		body      error // from reading the body
		logged    bool
	}{
		{"before the header", func(http.ResponseWriter, *http.Request) { panic("boom") }, edge.ErrBindingAborted, nil, true},
		{"ErrAbortHandler", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }, edge.ErrBindingAborted, nil, false},
		{"after the header", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "part")
			w.(http.Flusher).Flush()
			panic("late")
		}, nil, edge.ErrBindingAborted, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := strings.Count(buf.String(), "panic in bound handler")
			resp, err := (&http.Client{Transport: edge.Binding(tt.h)}).Get("http://svc/p?sig=secret")
			if !errors.Is(err, tt.roundTrip) || (err == nil) != (tt.roundTrip == nil) {
				t.Fatalf("Get error = %v, want %v", err, tt.roundTrip)
			}
			if resp != nil {
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "part" || !errors.Is(err, tt.body) {
					t.Errorf("body = %q, %v; want part, %v", b, err, tt.body)
				}
			}
			logged := strings.Count(buf.String(), "panic in bound handler") > before
			if logged != tt.logged {
				t.Errorf("logged = %v, want %v: %s", logged, tt.logged, buf)
			}
		})
	}
	if strings.Contains(buf.String(), "secret") {
		t.Errorf("the log leaks the query: %s", buf)
	}
	if !strings.Contains(buf.String(), "edge_test.TestBindingPanic") {
		t.Errorf("no stack in the log: %s", buf)
	}
}

func TestBindingNoURL(t *testing.T) {
	body := &closeSpy{Reader: strings.NewReader("x")}
	_, err := edge.Binding(http.NotFoundHandler()).RoundTrip(&http.Request{Method: "GET", Body: body, Header: http.Header{}})
	if err == nil || !body.closed {
		t.Errorf("err %v, body closed %v; want an error and the body closed", err, body.closed)
	}
}

func TestBindingNoLeak(t *testing.T) {
	logger, _ := newLogger() // the panics are logged
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)
	before := runtime.NumGoroutine()
	b := edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream":
			for {
				if _, err := io.WriteString(w, "chunk"); err != nil {
					return
				}
			}
		case "/wait":
			<-r.Context().Done()
		case "/panic":
			panic("x")
		default:
			io.Copy(w, r.Body)
		}
	}))
	for range 20 {
		// Read to the end.
		req, _ := http.NewRequest("POST", "http://svc/echo", strings.NewReader("hello"))
		if resp, err := b.RoundTrip(req); err == nil {
			readAll(t, resp.Body)
		}
		// Close early.
		req, _ = http.NewRequest("GET", "http://svc/stream", nil)
		if resp, err := b.RoundTrip(req); err == nil {
			io.CopyN(io.Discard, resp.Body, 100)
			resp.Body.Close()
		}
		// Cancel before the answer.
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		req, _ = http.NewRequestWithContext(ctx, "GET", "http://svc/wait", nil)
		b.RoundTrip(req)
		cancel()
		// Panic.
		req, _ = http.NewRequest("GET", "http://svc/panic", nil)
		b.RoundTrip(req)
	}
	settleGoroutines(t, before)
}

// A nil handler is refused when the binding is made, not on its first call.
func TestBindingNilHandlerPanicsAtConstruction(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("edge.Binding(nil) did not panic")
		}
	}()
	edge.Binding(nil)
}
