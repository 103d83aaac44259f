package cache

// must returns a middleware built by a constructor that returns an error,
// panicking on the error: the tests' stacks are fixed and valid.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
