package edge

import "net/http"

// Chain composes middlewares into one. The first is the outermost: it sees
// the request first and the response last.
//
//	Chain(a, b, c)(h) == a(b(c(h)))
func Chain(mw ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		return h
	}
}
