package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
)

// ProblemTypePrefix starts the RFC 9457 "type" of every problem: the type of
// a problem with code "company_missing" is "urn:cellgate:problem:company_missing".
const ProblemTypePrefix = "urn:cellgate:problem:"

// ContentTypeProblem is the media type of every error response.
const ContentTypeProblem = "application/problem+json"

// Problem is an error that knows how it is answered to a client
// (RFC 9457). Status, Code and Detail are shown to the client; the cause
// is for the log only. Handlers return or pass a *Problem to [WriteProblem],
// the one place that writes error responses.
//
// Its JSON form is the members of the response body that it holds, so a
// client may decode a problem response into it; [ReadProblem] does.
type Problem struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Code is the stable, lower snake case name of the problem, listed in
	// the README. Clients and tests branch on it, never on Detail.
	Code string `json:"code"`
	// Title is a short human summary; the status text when empty.
	Title string `json:"title,omitempty"`
	// Detail is a client-safe explanation of this occurrence.
	Detail string `json:"detail,omitempty"`

	cause error
}

// NewProblem returns a problem with the given status, code and detail.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{Status: status, Code: code, Detail: detail}
}

// WithCause returns a copy of p carrying err as its internal cause. The
// cause goes to the log line of the request, never to the client.
func (p *Problem) WithCause(err error) *Problem {
	q := *p
	q.cause = err
	return &q
}

// Error describes the problem and its cause, for logs.
func (p *Problem) Error() string {
	s := p.Code
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	if p.cause != nil {
		s += ": " + p.cause.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (p *Problem) Unwrap() error { return p.cause }

// Is reports whether target is a *Problem with the same code, so sentinel
// problems can be matched with errors.Is.
func (p *Problem) Is(target error) bool {
	t, ok := target.(*Problem)
	return ok && t.Code == p.Code
}

// maxProblemBody bounds what ReadProblem reads of a response: a problem
// WriteProblem writes is a few hundred bytes.
const maxProblemBody = 64 << 10

// ReadProblem reads the problem that resp carries, for tests and for
// services that call each other: its status, code, title and detail as the
// server sent them (the request ID is in resp's X-Request-Id). It reads at
// most 64 KiB of the body and does not close it. It is an error for resp
// not to be application/problem+json, or for its body not to be a problem
// with a code and the response's status.
func ReadProblem(resp *http.Response) (*Problem, error) {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ContentTypeProblem {
		return nil, fmt.Errorf("edge: read problem: response is %q, not %s", resp.Header.Get("Content-Type"), ContentTypeProblem)
	}
	var p Problem
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxProblemBody)).Decode(&p); err != nil {
		return nil, fmt.Errorf("edge: read problem: %w", err)
	}
	if p.Code == "" || p.Status != resp.StatusCode {
		return nil, fmt.Errorf("edge: read problem: code %q and status %d in a %d response", p.Code, p.Status, resp.StatusCode)
	}
	return &p, nil
}

// Problems this package answers with.
var (
	// ErrInternal answers anything that is not a *Problem.
	ErrInternal = NewProblem(http.StatusInternalServerError, "internal_error", "The server failed to handle the request.")
	// ErrNotFound: nothing is routed at this method and path. Services answer
	// it where http.ServeMux would write a plain-text 404 or 405.
	ErrNotFound = NewProblem(http.StatusNotFound, "not_found", "There is nothing at this method and path.")
	// ErrUpstreamUnavailable: the proxy could not reach the upstream or it broke off.
	ErrUpstreamUnavailable = NewProblem(http.StatusBadGateway, "upstream_unavailable", "The upstream service could not be reached.")
	// ErrUpstreamTimeout: the upstream did not answer in time.
	ErrUpstreamTimeout = NewProblem(http.StatusGatewayTimeout, "upstream_timeout", "The upstream service did not answer in time.")
	// ErrTLSVersionTooOld: the client's TLS version is below the floor.
	ErrTLSVersionTooOld = NewProblem(http.StatusForbidden, "tls_version_too_old",
		"This service requires TLS 1.2 or newer. Please update your browser, operating system or HTTP client and try again.")
)

// DefaultRetryAfter is the Retry-After, in seconds, that [WriteProblem]
// sends with a 502, 503 or 504 that has none of its own: long enough for a
// restarted upstream or a failed-over store, short enough not to idle a
// client.
const DefaultRetryAfter = "2"

// retryable reports whether status tells the client that trying again later
// may succeed: the gateway errors and 503.
func retryable(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteProblem answers err as application/problem+json. A *Problem anywhere
// in err's chain decides status, code and detail; anything else is a 500
// internal_error whose text never reaches the client. The code and the
// internal cause join the request's access log line (see [AddLogAttrs]);
// without an access log, server errors are logged through slog.Default().
//
// Headers already set on w (Retry-After, for example) are kept. A 502, 503
// or 504 without a Retry-After gets [DefaultRetryAfter], so a client of the
// edge always learns when trying again makes sense. If the
// response has already started, nothing more can be told to the client and
// the problem is only logged.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = ErrInternal.WithCause(err)
	}
	ctx := r.Context()
	observeProblem(ctx, p)
	attrs := []slog.Attr{slog.String("problem", p.Code)}
	if err != nil && err != p || p.cause != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if !AddLogAttrs(ctx, attrs...) && p.Status >= 500 {
		slog.Default().LogAttrs(ctx, slog.LevelError, "request failed",
			append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("request_id", RequestIDFromContext(ctx)))...)
	}
	if rw, ok := w.(*ResponseWriter); ok && rw.WroteHeader() {
		return
	}
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	body, _ := json.Marshal(problemBody{
		Type:      ProblemTypePrefix + p.Code,
		Title:     title,
		Status:    p.Status,
		Detail:    p.Detail,
		Code:      p.Code,
		RequestID: RequestIDFromContext(ctx),
	})
	h := w.Header()
	h.Set("Content-Type", ContentTypeProblem)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Content-Encoding")
	if retryable(p.Status) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", DefaultRetryAfter)
	}
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		w.Write(append(body, '\n'))
	}
}
