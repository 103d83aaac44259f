package edge_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// A response the bound handler cut short looks cut short to the client of a
// proxy over the binding, as it would over the network: reading the body
// fails, it never ends cleanly.
func TestBindingTruncatedThroughProxy(t *testing.T) {
	logger, _ := newLogger() // the panics are logged
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(logger)

	half := func(w http.ResponseWriter) {
		io.WriteString(w, "first half")
		w.(http.Flusher).Flush()
	}
	abort := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		half(w)
		panic(http.ErrAbortHandler)
	})
	tests := []struct {
		name string
		h    http.Handler
		// headerMayBeLost: with a Content-Length the front proxy buffers
		// the header, so its abort may come before the client got one.
		// Over the network it is the same, and as broken.
		headerMayBeLost bool
	}{
		{"ErrAbortHandler", abort, false},
		{"other panic", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			half(w)
			panic("boom")
		}), false},
		{"other panic under Recover", must.Build(edge.Recover(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			half(w)
			panic("boom")
		})), false},
		{"short of its Content-Length", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			half(w)
		}), true},
		{"short of its Content-Length, unflushed", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "first half")
		}), true},
		// A proxy over a binding whose own upstream failed mid-body.
		{"proxy whose upstream aborted", mustProxy(t, "http://inner.internal", edge.WithTransport(edge.Binding(abort))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := httptest.NewServer(mustProxy(t, "http://svc.internal", edge.WithTransport(edge.Binding(tt.h))))
			defer front.Close()
			resp, err := front.Client().Get(front.URL + "/p")
			if err != nil {
				if !tt.headerMayBeLost {
					t.Fatal(err)
				}
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200 (the header was sent)", resp.StatusCode)
			}
			b, err := io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("body %q, error %v; want %v", b, err, io.ErrUnexpectedEOF)
			}
			if !strings.HasPrefix("first half", string(b)) {
				t.Errorf("body %q, want a prefix of %q", b, "first half")
			}
		})
	}
}

// A handler that declared a Content-Length and wrote less cut its response
// short: the caller of the binding reads io.ErrUnexpectedEOF at the end, as
// from http.Transport. One that writes more is refused the excess with
// http.ErrContentLength, as by a server, and the caller gets the declared
// length.
func TestBindingContentLength(t *testing.T) {
	var writeErr error
	b := edge.Binding(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		switch r.URL.Path {
		case "/short":
			io.WriteString(w, "12345")
		case "/long":
			_, writeErr = io.WriteString(w, "12345")
			if writeErr == nil {
				_, writeErr = io.WriteString(w, "6789012345")
			}
		case "/exact":
			io.WriteString(w, "1234567890")
		}
	}))
	for _, tt := range []struct {
		path, body string
		err        error
	}{
		{"/short", "12345", io.ErrUnexpectedEOF},
		{"/long", "1234567890", nil},
		{"/exact", "1234567890", nil},
	} {
		req, _ := http.NewRequest("GET", "http://svc"+tt.path, nil)
		resp, err := b.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != tt.body || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("%s: body %q, error %v; want %q, %v", tt.path, got, err, tt.body, tt.err)
		}
		if resp.ContentLength != 10 {
			t.Errorf("%s: ContentLength %d, want 10", tt.path, resp.ContentLength)
		}
	}
	if !errors.Is(writeErr, http.ErrContentLength) {
		t.Errorf("writing past the Content-Length: %v, want %v", writeErr, http.ErrContentLength)
	}
}
