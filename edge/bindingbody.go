package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// serverContext is the context the bound handler's starts from: it says the
// call came through a binding, and it carries http.ServerContextKey as a
// server's would, so that a handler which aborts a response only under a
// server aborts it here too. httputil.ReverseProxy (so a [Proxy] over
// another binding) panics with http.ErrAbortHandler when its upstream's body
// fails mid-way only when it finds that key, and otherwise returns as if the
// body had ended: the truncation would reach the caller as a complete
// response.
func (b *binding) serverContext() context.Context {
	return context.WithValue(viaBindingKey.With(context.Background(), true), http.ServerContextKey, b.srv)
}

// write sends p to the caller, no more than the declared Content-Length:
// what goes past it is refused with http.ErrContentLength, as a server
// refuses it.
func (w *bindingWriter) write(p []byte) (int, error) {
	if w.length < 0 {
		return w.pw.Write(p)
	}
	var over bool
	if rest := w.length - w.written; int64(len(p)) > rest {
		p, over = p[:rest], true
	}
	n, err := w.pw.Write(p)
	w.written += int64(n)
	if err == nil && over {
		err = http.ErrContentLength
	}
	return n, err
}

// end ends the response body once the handler returned normally. A handler
// that declared a Content-Length and wrote less cut its response short: the
// caller reads io.ErrUnexpectedEOF at the end, as http.Transport reports a
// short body, never a clean io.EOF.
func (w *bindingWriter) end() {
	if w.length >= 0 && w.written < w.length {
		w.pw.CloseWithError(fmt.Errorf("edge: binding: handler wrote %d of its %d-byte Content-Length: %w",
			w.written, w.length, io.ErrUnexpectedEOF))
		return
	}
	w.pw.Close()
}
