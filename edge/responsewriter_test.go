package edge_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// spyWriter records what reaches the underlying writer.
type spyWriter struct {
	header   http.Header
	codes    []int
	body     strings.Builder
	readFrom int
}

func (s *spyWriter) Header() http.Header {
	if s.header == nil {
		s.header = make(http.Header)
	}
	return s.header
}
func (s *spyWriter) WriteHeader(code int)        { s.codes = append(s.codes, code) }
func (s *spyWriter) Write(p []byte) (int, error) { return s.body.Write(p) }

// readerFromWriter is a spyWriter with ReadFrom, as net/http's response has.
type readerFromWriter struct{ spyWriter }

func (s *readerFromWriter) ReadFrom(r io.Reader) (int64, error) {
	s.readFrom++
	return io.Copy(&s.body, r)
}

func TestResponseWriterStatus(t *testing.T) {
	tests := []struct {
		name      string
		do        func(w *edge.ResponseWriter)
		codes     []int // WriteHeader calls that reach the underlying writer
		status    int
		written   int64
		wroteHead bool
	}{
		{"nothing", func(*edge.ResponseWriter) {}, nil, 0, 0, false},
		{"write implies 200", func(w *edge.ResponseWriter) { io.WriteString(w, "abc") }, nil, 200, 3, true},
		{"explicit", func(w *edge.ResponseWriter) { w.WriteHeader(201); io.WriteString(w, "ab") }, []int{201}, 201, 2, true},
		{"second WriteHeader dropped", func(w *edge.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, []int{404}, 404, 0, true},
		{"WriteHeader after Write dropped", func(w *edge.ResponseWriter) { io.WriteString(w, "x"); w.WriteHeader(500) }, nil, 200, 1, true},
		{"1xx passes through", func(w *edge.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(100); w.WriteHeader(204) }, []int{103, 100, 204}, 204, 0, true},
		{"1xx after final dropped", func(w *edge.ResponseWriter) { w.WriteHeader(200); w.WriteHeader(103) }, []int{200}, 200, 0, true},
		{"101 is final", func(w *edge.ResponseWriter) { w.WriteHeader(101); w.WriteHeader(200) }, []int{101}, 101, 0, true},
		{"ReadFrom counts", func(w *edge.ResponseWriter) { w.ReadFrom(strings.NewReader("hello")) }, nil, 200, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &spyWriter{}
			w := edge.WrapResponseWriter(spy)
			tt.do(w)
			if !reflect.DeepEqual(spy.codes, tt.codes) {
				t.Errorf("underlying WriteHeader calls = %v, want %v", spy.codes, tt.codes)
			}
			if w.Status() != tt.status || w.BytesWritten() != tt.written || w.WroteHeader() != tt.wroteHead {
				t.Errorf("Status %d, BytesWritten %d, WroteHeader %v; want %d, %d, %v",
					w.Status(), w.BytesWritten(), w.WroteHeader(), tt.status, tt.written, tt.wroteHead)
			}
			if int64(spy.body.Len()) != w.BytesWritten() {
				t.Errorf("underlying got %d bytes, counted %d", spy.body.Len(), w.BytesWritten())
			}
		})
	}
}

func TestWrapResponseWriterOnce(t *testing.T) {
	rec := httptest.NewRecorder()
	w := edge.WrapResponseWriter(rec)
	if edge.WrapResponseWriter(w) != w {
		t.Error("wrapping a *ResponseWriter again made a second wrapper")
	}
	if w.Unwrap() != http.ResponseWriter(rec) {
		t.Error("Unwrap does not return the wrapped writer")
	}
}

func TestResponseWriterReadFrom(t *testing.T) {
	rf := &readerFromWriter{}
	w := edge.WrapResponseWriter(rf)
	n, err := w.ReadFrom(strings.NewReader("streamed"))
	if err != nil || n != 8 || rf.readFrom != 1 || rf.body.String() != "streamed" {
		t.Errorf("ReadFrom = %d, %v; underlying ReadFrom called %d times, got %q", n, err, rf.readFrom, rf.body.String())
	}
	// io.Copy finds ReadFrom on the wrapper when the source has no WriteTo.
	io.Copy(w, struct{ io.Reader }{strings.NewReader("!")}) // no WriteTo
	if rf.readFrom != 2 || w.BytesWritten() != 9 {
		t.Errorf("io.Copy: underlying ReadFrom called %d times, %d bytes counted", rf.readFrom, w.BytesWritten())
	}
}

func TestResponseWriterFlush(t *testing.T) {
	rec := httptest.NewRecorder()
	w := edge.WrapResponseWriter(rec)
	w.Flush()
	if !rec.Flushed || w.Status() != 200 {
		t.Errorf("Flush: recorder flushed %v, status %d", rec.Flushed, w.Status())
	}

	rec = httptest.NewRecorder()
	if err := http.NewResponseController(edge.WrapResponseWriter(rec)).Flush(); err != nil || !rec.Flushed {
		t.Errorf("ResponseController.Flush: %v, flushed %v", err, rec.Flushed)
	}

	// A writer that cannot flush says so.
	if err := edge.WrapResponseWriter(&spyWriter{}).FlushError(); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("FlushError on a non-flusher = %v, want ErrNotSupported", err)
	}
	if _, _, err := edge.WrapResponseWriter(rec).Hijack(); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("Hijack on a recorder = %v, want ErrNotSupported", err)
	}
}

// TestResponseWriterRealServer reaches the server's Hijack, deadlines and 1xx
// through the wrapper, directly and through http.ResponseController.
func TestResponseWriterRealServer(t *testing.T) {
	wrap := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h(edge.WrapResponseWriter(w), r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/hijack-direct", wrap(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		hijacked(t, conn, brw, err)
	}))
	mux.Handle("/hijack-controller", wrap(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		hijacked(t, conn, brw, err)
	}))
	mux.Handle("/deadline", wrap(func(w http.ResponseWriter, r *http.Request) {
		// Only reachable through Unwrap.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		io.WriteString(w, "ok")
	}))
	mux.Handle("/early-hints", wrap(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusTeapot) // dropped: net/http would log "superfluous"
		io.WriteString(w, "page")
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/hijack-direct", "/hijack-controller"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := readAll(t, resp.Body); resp.StatusCode != 299 || got != "hijacked" {
			t.Errorf("%s: %d %q, want the hijacker's raw answer", path, resp.StatusCode, got)
		}
	}

	resp, err := http.Get(srv.URL + "/deadline")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)

	var got1xx []int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			got1xx = append(got1xx, code)
			if h.Get("Link") == "" {
				t.Error("103 without its Link header")
			}
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/early-hints", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp.Body); resp.StatusCode != 200 || body != "page" || !reflect.DeepEqual(got1xx, []int{103}) {
		t.Errorf("early hints: 1xx %v, final %d %q", got1xx, resp.StatusCode, body)
	}
}

func hijacked(t *testing.T, conn net.Conn, brw *bufio.ReadWriter, err error) {
	if err != nil {
		t.Errorf("Hijack: %v", err)
		return
	}
	defer conn.Close()
	brw.WriteString("HTTP/1.1 299 Hijacked\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
	brw.Flush()
}
