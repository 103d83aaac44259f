package passport_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// consumer is a user's program; USE is replaced by the call under test.
const consumer = `package main

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
)

var (
	_   = http.DefaultTransport
	_   = time.Second
	dir zone.Directory
	key passport.SigningKey
)

func main() {
	USE
}
`

func program(use string) string { return strings.Replace(consumer, "USE", use, 1) }

// An option given to a constructor that does not read it, or required
// arguments given positionally where they could be swapped, do not
// compile: the misuse is found by the compiler in the user's module, not at
// run time.
func TestMisuseDoesNotCompile(t *testing.T) {
	for _, tc := range []struct{ name, ok, misuse, want string }{
		{
			"gateway option to NewIssuer",
			`_, _ = passport.NewIssuer("https://auth", key, passport.WithLifetime(time.Minute))`,
			`_, _ = passport.NewIssuer("https://auth", key, passport.WithCacheTTL(time.Minute))`,
			`passport.WithCacheTTL\(time.Minute\) \(value of interface type passport.GatewayOption\) as passport.IssuerOption value`,
		},
		{
			"issuer option to NewVerifier",
			`_, _ = passport.NewVerifier(passport.Expected{Issuer: "https://auth", Audience: "us01"}, passport.WithLeeway(time.Second))`,
			`_, _ = passport.NewVerifier(passport.Expected{Issuer: "https://auth", Audience: "us01"}, passport.WithLifetime(time.Second))`,
			`passport.IssuerOption does not implement passport.VerifierOption`,
		},
		{
			"a shared option where it is not read",
			`_, _ = passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth"}, passport.WithCookie("sid"))`,
			`_, _ = passport.NewMemoryStore(passport.WithCookie("sid"))`,
			`passport.CookieOption does not implement passport.MemoryStoreOption`,
		},
		{
			"issuer and audience as adjacent strings",
			`_, _ = passport.NewVerifier(passport.Expected{Issuer: "https://auth", Audience: "us01"})`,
			`_, _ = passport.NewVerifier("https://auth", "us01")`,
			`cannot use "https://auth" \(untyped string constant\) as passport.Expected value`,
		},
		{
			"zone and auth URL as strings",
			`_, _ = passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth", Transport: http.DefaultTransport})`,
			`_, _ = passport.NewGateway("us01", dir, "http://auth", http.DefaultTransport)`,
			`cannot use "http://auth" \(untyped string constant\) as passport.Endpoint value`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			compilecheck.Fails(t, program(tc.ok), program(tc.misuse), regexp.MustCompile(tc.want))
		})
	}
}
