package cache_test

import (
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// An option of one constructor given to the other does not compile; the
// options both read (WithClock, WithObserver, WithVaryOn, WithStatusName)
// compile with either.
func TestOptionOfAnotherConstructorDoesNotCompile(t *testing.T) {
	const ok = `package main

import "github.com/cellgate/cellgate/zone/cache"

func main() {
	_, _ = cache.NewCache(cache.WithMaxEntries(10), cache.WithVaryOn("Accept"))
	_, _ = cache.NewCoalescer(cache.WithMaxWaiters(10), cache.WithVaryOn("Accept"))
}
`
	const misuse = `package main

import "github.com/cellgate/cellgate/zone/cache"

func main() {
	_, _ = cache.NewCache(cache.WithMaxEntries(10), cache.WithVaryOn("Accept"))
	_, _ = cache.NewCoalescer(cache.WithMaxEntries(10), cache.WithVaryOn("Accept"))
}
`
	compilecheck.Fails(t, ok, misuse, regexp.MustCompile(`WithMaxEntries\(10\).*does not implement cache\.CoalescerOption|cannot use cache\.WithMaxEntries`))
}
