package edge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// decodeProblem checks the response is a problem and returns its members.
func decodeProblem(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != edge.ContentTypeProblem {
		t.Fatalf("Content-Type = %q, want %q", ct, edge.ContentTypeProblem)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	return m
}

func TestWriteProblem(t *testing.T) {
	secret := errors.New("dial tcp 10.1.2.3:5432: password=hunter2")
	teapot := edge.NewProblem(418, "teapot", "Short and stout.").WithTitle("I brew")
	tests := []struct {
		name      string
		err       error
		requestID string
		want      map[string]any
	}{
		{
			name: "problem with request id", err: edge.ErrUpstreamTimeout, requestID: "req-1",
			want: map[string]any{
				"type": "urn:cellgate:problem:upstream_timeout", "title": "Gateway Timeout", "status": 504.0,
				"detail": edge.ErrUpstreamTimeout.Detail(), "code": "upstream_timeout", "request_id": "req-1",
			},
		},
		{
			name: "cause stays out of the body", err: edge.NewProblem(409, "conflict", "Try again.").WithCause(secret),
			requestID: "req-2",
			want: map[string]any{
				"type": "urn:cellgate:problem:conflict", "title": "Conflict", "status": 409.0,
				"detail": "Try again.", "code": "conflict", "request_id": "req-2",
			},
		},
		{
			name: "plain error is internal", err: secret, requestID: "req-3",
			want: map[string]any{
				"type": "urn:cellgate:problem:internal_error", "title": "Internal Server Error", "status": 500.0,
				"detail": edge.ErrInternal.Detail(), "code": "internal_error", "request_id": "req-3",
			},
		},
		{
			name: "nil error is internal", err: nil,
			want: map[string]any{
				"type": "urn:cellgate:problem:internal_error", "title": "Internal Server Error", "status": 500.0,
				"detail": edge.ErrInternal.Detail(), "code": "internal_error",
			},
		},
		{
			name: "wrapped problem found", err: fmt.Errorf("zone: lookup: %w", teapot.WithCause(secret)),
			want: map[string]any{
				"type": "urn:cellgate:problem:teapot", "title": "I brew", "status": 418.0,
				"detail": "Short and stout.", "code": "teapot",
			},
		},
		{
			name: "no detail", err: edge.NewProblem(404, "not_here", ""), requestID: "r",
			want: map[string]any{
				"type": "urn:cellgate:problem:not_here", "title": "Not Found", "status": 404.0,
				"code": "not_here", "request_id": "r",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.requestID != "" {
				r = r.WithContext(edge.ContextWithRequestID(r.Context(), tt.requestID))
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("ETag", `"v1"`)
			rec.Header().Set("Retry-After", "3")
			edge.WriteProblem(rec, r, tt.err)
			resp := rec.Result()

			if resp.StatusCode != int(tt.want["status"].(float64)) {
				t.Errorf("status = %d, want %v", resp.StatusCode, tt.want["status"])
			}
			body := rec.Body.String()
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %s, body is %d bytes", got, len(body))
			}
			for k, v := range map[string]string{
				"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "ETag": "", "Retry-After": "3",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := decodeProblem(t, resp); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body = %v\nwant   %v", got, tt.want)
			}
			for _, leak := range []string{"hunter2", "10.1.2.3", "lookup"} {
				if strings.Contains(body, leak) {
					t.Errorf("body leaks %q: %s", leak, body)
				}
			}
		})
	}
}

func TestWriteProblemHead(t *testing.T) {
	rec := httptest.NewRecorder()
	edge.WriteProblem(rec, httptest.NewRequest("HEAD", "/", nil), edge.ErrTLSVersionTooOld)
	if rec.Code != 403 || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != edge.ContentTypeProblem {
		t.Errorf("HEAD: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestWriteProblemAfterHeader(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := edge.WrapResponseWriter(rec)
	rw.WriteHeader(200)
	io.WriteString(rw, "partial")
	edge.WriteProblem(rw, httptest.NewRequest("GET", "/", nil), edge.ErrInternal)
	if rec.Code != 200 || rec.Body.String() != "partial" {
		t.Errorf("after the header, WriteProblem wrote: %d %q", rec.Code, rec.Body)
	}
}

func TestWriteProblemLogs(t *testing.T) {
	secret := errors.New("redis at 10.9.9.9 refused")

	t.Run("into the access log line", func(t *testing.T) {
		logger, buf := newLogger()
		h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			edge.WriteProblem(w, r, edge.ErrUpstreamUnavailable.WithCause(secret))
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		l := buf.lines(t)
		if len(l) != 1 || l[0]["problem"] != "upstream_unavailable" || l[0]["status"] != 502.0 ||
			!strings.Contains(fmt.Sprint(l[0]["error"]), "10.9.9.9") {
			t.Errorf("log = %v, want one line with problem, status and the cause", l)
		}
		if strings.Contains(rec.Body.String(), "10.9.9.9") {
			t.Error("cause reached the client")
		}
	})

	t.Run("without an access log", func(t *testing.T) {
		logger, buf := newLogger()
		defer slog.SetDefault(slog.Default())
		slog.SetDefault(logger)
		r := httptest.NewRequest("GET", "/p?sig=secret", nil)
		r = r.WithContext(edge.ContextWithRequestID(r.Context(), "rid"))
		edge.WriteProblem(httptest.NewRecorder(), r, edge.NewProblem(400, "bad", "Bad."))
		if buf.String() != "" {
			t.Errorf("a client error was logged: %s", buf)
		}
		edge.WriteProblem(httptest.NewRecorder(), r, secret)
		l := buf.lines(t)
		if len(l) != 1 || l[0]["problem"] != "internal_error" || l[0]["request_id"] != "rid" || l[0]["path"] != "/p" {
			t.Errorf("log = %v, want one internal_error line", l)
		}
		if strings.Contains(buf.String(), "secret") {
			t.Errorf("log leaks the query: %s", buf)
		}
	})
}

func TestProblemErrors(t *testing.T) {
	cause := context.DeadlineExceeded
	p := edge.ErrUpstreamTimeout.WithCause(cause)
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"same code matches the sentinel", errors.Is(p, edge.ErrUpstreamTimeout), true},
		{"wrapped matches", errors.Is(fmt.Errorf("x: %w", p), edge.ErrUpstreamTimeout), true},
		{"equal code, new value", errors.Is(edge.NewProblem(500, "upstream_timeout", ""), edge.ErrUpstreamTimeout), true},
		{"other code", errors.Is(p, edge.ErrUpstreamUnavailable), false},
		{"cause reachable", errors.Is(p, context.DeadlineExceeded), true},
		{"WithCause copies", edge.ErrUpstreamTimeout.Unwrap() == nil, true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got, want := p.Error(), "upstream_timeout: "+edge.ErrUpstreamTimeout.Detail()+": context deadline exceeded"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// ProblemHandler answers every request with its problem.
func TestProblemHandler(t *testing.T) {
	h := edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("nil component")))
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(m, "/x", nil))
		p, err := edge.ReadProblem(w.Result())
		if err != nil || w.Code != http.StatusInternalServerError || p.Code() != "internal_error" {
			t.Errorf("%s: %d %v %v", m, w.Code, p, err)
		}
		if strings.Contains(w.Body.String(), "nil component") {
			t.Errorf("%s: the cause reached the client: %s", m, w.Body)
		}
	}
}
