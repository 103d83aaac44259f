package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
)

var viaBindingKey = NewKey[bool]("edge.via_binding")

// ViaBinding reports whether r arrived through a [Binding]. No header can
// make it true, so an internal-only service can refuse everything else.
func ViaBinding(r *http.Request) bool { return viaBindingKey.Value(r.Context()) }

// ErrBindingAborted is the error a caller sees when the bound handler
// panicked or aborted its response.
var ErrBindingAborted = errors.New("edge: binding: handler aborted the response")

// errBodyClosed cancels the callee when the caller closes the response body.
var errBodyClosed = errors.New("edge: binding: response body closed by caller")

// Binding returns a RoundTripper that serves requests with h in-process, the
// way a serverless platform's service binding calls another service
// without a network hop.
//
// The call behaves like one over the network: the handler gets a server-side
// request of its own (RequestURI, Host, a cloned header and a fresh context
// carrying none of the caller's values), so it trusts only what crosses the
// wire. Bodies stream both ways through a pipe with no buffering; cancelling
// the caller's context, or closing the response body early, cancels the
// handler's context. The request ID of the caller's context is sent in
// X-Request-Id when the request has none.
//
// A binding cannot switch protocols: the handler cannot hijack, and a 101
// it writes reaches the caller with a body that cannot be written, so no
// tunnel opens ([Proxy] answers it 502 upstream_unavailable).
//
// A response cut short reads as cut short, as over the network: when the
// handler panics after the header (http.ErrAbortHandler included), or
// returns having written less than its declared Content-Length, reading the
// response body fails ([ErrBindingAborted], io.ErrUnexpectedEOF) instead of
// ending with io.EOF, so a [Proxy] over the binding aborts its own response.
// Writes past the Content-Length fail with http.ErrContentLength. The
// handler's context carries http.ServerContextKey (a *http.Server of its
// own), so a handler that aborts only under a server, such as
// httputil.ReverseProxy when its upstream's body fails, aborts here too.
func Binding(h http.Handler) http.RoundTripper {
	if h == nil {
		panic("edge: Binding: nil handler")
	}
	return &binding{h: h, srv: &http.Server{Handler: h}}
}

type binding struct {
	h   http.Handler
	srv *http.Server // the handler's http.ServerContextKey (see serverContext)
}

// RoundTrip implements http.RoundTripper.
func (b *binding) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	if req.URL == nil {
		body.Close()
		return nil, errors.New("edge: binding: request without URL")
	}
	if err := req.Context().Err(); err != nil {
		body.Close()
		return nil, err
	}
	pr, pw := io.Pipe()
	in, cancel, stop := b.serverRequest(req, body, pw)

	w := &bindingWriter{header: make(http.Header), pw: pw, req: req, ready: make(chan struct{})}
	w.body = &bindingBody{pr: pr, cancel: cancel}
	go w.serve(b.h, in, body, cancel, stop)

	select {
	case <-w.ready:
		if w.resp == nil {
			return nil, ErrBindingAborted
		}
		if err := req.Context().Err(); err != nil {
			// Cancelled as the response came (often its cause: the
			// handler returned on the cancellation): the caller gets the
			// cancellation, whichever the select saw first.
			w.resp.Body.Close()
			return nil, err
		}
		return w.resp, nil
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
}

// serverRequest builds the request the handler sees, as a server would.
// Cancelling the caller's context cancels the handler's and breaks the
// response body with the cause, so a response cut short never reads as
// complete, even when the handler then returns normally.
func (b *binding) serverRequest(req *http.Request, body io.ReadCloser, pw *io.PipeWriter) (*http.Request, context.CancelCauseFunc, func() bool) {
	ctx, cancel := context.WithCancelCause(b.serverContext())
	stop := context.AfterFunc(req.Context(), func() {
		err := context.Cause(req.Context())
		pw.CloseWithError(err)
		cancel(err)
	})
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	header := req.Header.Clone()
	if header == nil {
		header = make(http.Header)
	}
	if header.Get(RequestIDHeader) == "" {
		if id := RequestIDFromContext(req.Context()); id != "" {
			header.Set(RequestIDHeader, id)
		}
	}
	contentLength := req.ContentLength
	if body == http.NoBody {
		contentLength = 0
	}
	in := &http.Request{
		Method:        req.Method,
		URL:           &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          body,
		ContentLength: contentLength,
		Host:          host,
		RemoteAddr:    "binding",
		RequestURI:    req.URL.RequestURI(),
	}
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	return in.WithContext(ctx), cancel, stop
}

// bindingWriter is the handler's http.ResponseWriter: the header goes to the
// caller as an *http.Response on the first write or flush, the body through
// the pipe.
type bindingWriter struct {
	header http.Header
	pw     *io.PipeWriter
	body   *bindingBody
	req    *http.Request
	once   sync.Once
	ready  chan struct{}
	resp   *http.Response
	status int
	// discard is set with resp: writes are dropped (HEAD, 204, 304). Write
	// reads it rather than resp.Body, which the caller may replace.
	discard bool
	// length is the declared Content-Length (-1: none), set with resp;
	// written counts the body bytes sent (see write and end).
	length, written int64
}

func (w *bindingWriter) serve(h http.Handler, in *http.Request, body io.ReadCloser, cancel context.CancelCauseFunc, stop func() bool) {
	defer func() {
		v := recover()
		body.Close()
		stop()
		if v != nil {
			if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				slog.Default().LogAttrs(context.Background(), slog.LevelError, "panic in bound handler",
					slog.String("method", in.Method),
					slog.String("path", in.URL.Path),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())))
			}
			w.once.Do(func() { close(w.ready) }) // no response: RoundTrip fails
			w.pw.CloseWithError(ErrBindingAborted)
		} else {
			w.WriteHeader(http.StatusOK)
			w.end()
		}
		cancel(context.Canceled)
	}()
	h.ServeHTTP(w, in)
}

func (w *bindingWriter) Header() http.Header { return w.header }

func (w *bindingWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
	w.once.Do(func() {
		w.status = code
		header := w.header.Clone()
		length := int64(-1)
		if v := header.Get("Content-Length"); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				length = n
			}
		}
		var body io.ReadCloser = w.body
		if w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified {
			body, length = http.NoBody, 0 // writes are discarded, as a server would
			w.discard = true
		}
		w.length = length
		w.resp = &http.Response{
			Status:        strconv.Itoa(code) + " " + http.StatusText(code),
			StatusCode:    code,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        header,
			Body:          body,
			ContentLength: length,
			Request:       w.req,
		}
		close(w.ready)
	})
}

func (w *bindingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.resp == nil {
		return 0, ErrBindingAborted
	}
	if w.discard {
		return len(p), nil
	}
	return w.write(p)
}

// Flush sends the header to the caller; the body is unbuffered already.
func (w *bindingWriter) Flush() { w.WriteHeader(http.StatusOK) }

// bindingBody is the response body the caller reads.
type bindingBody struct {
	pr     *io.PipeReader
	cancel context.CancelCauseFunc
}

func (b *bindingBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

// Close stops the handler's writes and cancels its context, as a client
// hanging up would.
func (b *bindingBody) Close() error {
	b.pr.CloseWithError(errBodyClosed)
	b.cancel(errBodyClosed)
	return nil
}
