package main

// mustEdge returns v, a middleware a test builds with a constructor of
// edge or hmacsig, and panics on err: a test's construction error is a bug
// of the test.
func mustEdge[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
