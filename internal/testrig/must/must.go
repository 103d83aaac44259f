// Package must builds what a test needs from a constructor that returns an
// error, and panics on the error: a test's construction error is a bug of
// the test, not a case it checks. It is for tests only.
package must

// Build returns v, the middleware, transport or anything else a test
// builds, and panics on err.
//
//	h := edge.Chain(must.Build(edge.RequestID()), must.Build(edge.StripInternal()))(next)
func Build[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
