package edge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in the handler into a 500 internal_error problem and
// an error log line with the stack; the process and the server go on. A
// panic with http.ErrAbortHandler keeps its meaning: it is re-raised so
// net/http aborts the response silently. If the response had already
// started, it is cut short instead.
//
// A nil option is an error.
func Recover(opts ...RecoverOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("Recover", opts, RecoverOption.recoverOption)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := WrapResponseWriter(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				c.log().LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("request_id", RequestIDFromContext(r.Context())),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())),
				)
				if rw.WroteHeader() {
					// Too late for a problem: abort so the client sees a
					// broken response rather than a truncated success.
					panic(http.ErrAbortHandler)
				}
				WriteProblem(rw, r, ErrInternal.WithCause(fmt.Errorf("panic: %v", v)))
			}()
			next.ServeHTTP(rw, r)
		})
	}, nil
}
