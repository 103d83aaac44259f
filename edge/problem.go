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
// (RFC 9457). Its status, code, title and detail are shown to the client;
// the cause is for the log only. Handlers return or pass a *Problem to
// [WriteProblem], the one place that writes error responses.
//
// A Problem cannot be changed once made: its fields are read through
// methods, and WithCause, WithDetail and WithTitle return a copy. So the
// package's sentinel problems (ErrInternal, ErrNotFound, …) answer the same
// wherever they are used, whatever a caller does with them.
//
// Its JSON form is the members of the response body that it holds
// (status, code, title, detail), so a client may decode a problem response
// into a new Problem; [ReadProblem] does.
type Problem struct {
	status int
	code   string
	title  string
	detail string
	cause  error
}

// NewProblem returns a problem with the given status, code and detail.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{status: status, code: code, detail: detail}
}

// Status returns the HTTP status code.
func (p *Problem) Status() int { return p.status }

// Code returns the stable, lower snake case name of the problem, listed in
// the README. Clients and tests branch on it, never on the detail.
func (p *Problem) Code() string { return p.code }

// Title returns the short human summary; the status text when it has none
// ([WriteProblem] writes that).
func (p *Problem) Title() string { return p.title }

// Detail returns the client-safe explanation of this occurrence.
func (p *Problem) Detail() string { return p.detail }

// WithCause returns a copy of p carrying err as its internal cause. The
// cause goes to the log line of the request, never to the client.
func (p *Problem) WithCause(err error) *Problem {
	q := *p
	q.cause = err
	return &q
}

// WithDetail returns a copy of p whose detail is detail: the same problem
// (same status and code, so errors.Is still matches), explained for this
// occurrence. The detail reaches the client: it must hold no secret.
func (p *Problem) WithDetail(detail string) *Problem {
	q := *p
	q.detail = detail
	return &q
}

// WithTitle returns a copy of p whose title is title.
func (p *Problem) WithTitle(title string) *Problem {
	q := *p
	q.title = title
	return &q
}

// problemJSON is the JSON form of a Problem.
type problemJSON struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON encodes the status, code, title and detail of p; never the
// cause.
func (p *Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(problemJSON{Status: p.status, Code: p.code, Title: p.title, Detail: p.detail})
}

// UnmarshalJSON decodes a problem into p, which must be new (the zero
// Problem): decoding into one that is set, a sentinel such as ErrInternal,
// is an error and leaves it unchanged. Members other than status, code,
// title and detail are ignored.
func (p *Problem) UnmarshalJSON(data []byte) error {
	if p.status != 0 || p.code != "" || p.title != "" || p.detail != "" || p.cause != nil {
		return errors.New("edge: decode a problem into one that is already set")
	}
	var j problemJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*p = Problem{status: j.Status, code: j.Code, title: j.Title, detail: j.Detail}
	return nil
}

// Error describes the problem and its cause, for logs.
func (p *Problem) Error() string {
	s := p.code
	if p.detail != "" {
		s += ": " + p.detail
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
	return ok && t.code == p.code
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
	if p.code == "" || p.status != resp.StatusCode {
		return nil, fmt.Errorf("edge: read problem: code %q and status %d in a %d response", p.code, p.status, resp.StatusCode)
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

// ProblemHandler answers every request with err through [WriteProblem]:
// the middleware of a component whose constructor's error was ignored
// (a nil passport.Gateway) answers with it rather than panic or serve
// unchecked.
func ProblemHandler(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { WriteProblem(w, r, err) })
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
	attrs := []slog.Attr{slog.String("problem", p.code)}
	if err != nil && err != p || p.cause != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if !AddLogAttrs(ctx, attrs...) && p.status >= 500 {
		slog.Default().LogAttrs(ctx, slog.LevelError, "request failed",
			append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("request_id", RequestIDFromContext(ctx)))...)
	}
	if rw, ok := w.(*ResponseWriter); ok && rw.WroteHeader() {
		return
	}
	title := p.title
	if title == "" {
		title = http.StatusText(p.status)
	}
	body, _ := json.Marshal(problemBody{
		Type:      ProblemTypePrefix + p.code,
		Title:     title,
		Status:    p.status,
		Detail:    p.detail,
		Code:      p.code,
		RequestID: RequestIDFromContext(ctx),
	})
	h := w.Header()
	h.Set("Content-Type", ContentTypeProblem)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Content-Encoding")
	if retryable(p.status) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", DefaultRetryAfter)
	}
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		w.Write(append(body, '\n'))
	}
}
