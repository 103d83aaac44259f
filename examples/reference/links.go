package reference

import "net/http"

// links collects the middlewares of a chain, whose constructors return an
// error beside the middleware, and keeps the first error, so a chain reads
// as one edge.Chain call:
//
//	var l links
//	chain := edge.Chain(l.add(edge.RequestID()), l.add(edge.AccessLog(log)), tracing.Route)
//	if l.err != nil {
//		return nil, l.err
//	}
type links struct{ err error }

// add returns mw, and keeps err when it is the first.
func (l *links) add(mw func(http.Handler) http.Handler, err error) func(http.Handler) http.Handler {
	if err != nil && l.err == nil {
		l.err = err
	}
	return mw
}
