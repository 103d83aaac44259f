package ratelimit_test

import (
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// An option of New given to NewKeyFunc is a compile error in the user's
// module: each constructor has its own option type.
func TestMisplacedOptionsDoNotCompile(t *testing.T) {
	const head = `package main

import (
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone/ratelimit"
)

var _, _ = time.Now, edge.TrustBinding

func main() {
`
	ok := head + `	_, _ = ratelimit.NewKeyFunc(ratelimit.WithIPv4Prefix(24), ratelimit.WithTrust(edge.TrustBinding))
	_, _ = ratelimit.New(1, 1, ratelimit.WithClock(time.Now), ratelimit.WithIPv4Prefix(24), ratelimit.WithTrust(edge.TrustBinding))
}
`
	misuse := head + `	_, _ = ratelimit.NewKeyFunc(ratelimit.WithClock(time.Now))
	_, _ = ratelimit.New(1, 1, ratelimit.WithClock(time.Now), ratelimit.WithIPv4Prefix(24), ratelimit.WithTrust(edge.TrustBinding))
}
`
	compilecheck.Fails(t, ok, misuse,
		regexp.MustCompile(`cannot use ratelimit\.WithClock\(time\.Now\) .*as ratelimit\.KeyFuncOption value in argument to ratelimit\.NewKeyFunc`))
}
