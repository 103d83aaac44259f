package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"
)

// ResponseWriter wraps an http.ResponseWriter to record the status and the
// number of body bytes written. It is the one wrapper of cellgate: the access
// log, recovery, problems and tracing share it through [WrapResponseWriter],
// so a chain wraps a response once.
//
// Flush, Hijack and ReadFrom stay reachable, directly and through Unwrap for
// http.ResponseController. A second WriteHeader is dropped, not forwarded.
type ResponseWriter struct {
	http.ResponseWriter
	status  int
	written int64
	// onReadDeadline tells a [BodyIdle] guard that the handler manages
	// read deadlines itself.
	onReadDeadline func()
	// beforeHeader runs once, just before the final header is sent.
	beforeHeader func()
}

// final records the final status and runs beforeHeader.
func (w *ResponseWriter) final(code int) {
	w.status = code
	if w.beforeHeader != nil {
		w.beforeHeader()
	}
}

// WrapResponseWriter returns w itself when it is already a *ResponseWriter,
// and a new wrapper around it otherwise.
func WrapResponseWriter(w http.ResponseWriter) *ResponseWriter {
	if rw, ok := w.(*ResponseWriter); ok {
		return rw
	}
	return &ResponseWriter{ResponseWriter: w}
}

// Status returns the status code sent, or 0 before the header is written.
func (w *ResponseWriter) Status() int { return w.status }

// BytesWritten returns the number of body bytes written so far.
func (w *ResponseWriter) BytesWritten() int64 { return w.written }

// WroteHeader reports whether the response header has been sent.
func (w *ResponseWriter) WroteHeader() bool { return w.status != 0 }

// WriteHeader sends the header once. Informational statuses (100 Continue,
// 103 Early Hints) pass through without counting as the final header.
func (w *ResponseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.final(code)
	w.ResponseWriter.WriteHeader(code)
}

// Write sends body bytes, writing a 200 header first if none was sent.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.final(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom copies from r, using the underlying writer's ReadFrom (sendfile,
// splice) when it has one.
func (w *ResponseWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.final(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.written += n
	return n, err
}

// Flush sends buffered data to the client, if the underlying writer can.
func (w *ResponseWriter) Flush() {
	if w.status == 0 {
		w.final(http.StatusOK)
	}
	_ = flush(w.ResponseWriter)
}

// FlushError is Flush with its error, for http.ResponseController.
func (w *ResponseWriter) FlushError() error {
	if w.status == 0 {
		w.final(http.StatusOK)
	}
	return flush(w.ResponseWriter)
}

// flush is http.ResponseController's Flush without allocating the
// controller: it runs once per proxied response.
func flush(rw http.ResponseWriter) error {
	for {
		switch t := rw.(type) {
		case interface{ FlushError() error }:
			return t.FlushError()
		case http.Flusher:
			t.Flush()
			return nil
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}

// Hijack takes over the connection, if the underlying writer allows it.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// SetReadDeadline sets the read deadline of the underlying connection, for
// http.ResponseController. A handler that calls it manages the request
// body's deadlines itself, so a [BodyIdle] guard around it steps aside.
func (w *ResponseWriter) SetReadDeadline(t time.Time) error {
	if w.onReadDeadline != nil {
		w.onReadDeadline()
	}
	return http.NewResponseController(w.ResponseWriter).SetReadDeadline(t)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides every method but Write, so io.Copy cannot call back into
// ReadFrom.
type writerOnly struct{ io.Writer }
