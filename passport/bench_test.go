package passport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/zone"
)

func benchSession(now time.Time) Session {
	return Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range []string{EdDSA, ES256} {
		b.Run(alg, func(b *testing.B) {
			key, _ := GenerateKey(alg)
			issuer, _ := NewIssuer(testIss, key)
			s := benchSession(time.Now())
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := issuer.Mint(s, Scope{CompanyID: "42", Zone: testZone}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{EdDSA, ES256} {
		b.Run(alg, func(b *testing.B) {
			key, _ := GenerateKey(alg)
			issuer, _ := NewIssuer(testIss, key)
			v, _ := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithStaticKeys(key.Public()))
			token, _, _ := issuer.Mint(benchSession(time.Now()), Scope{CompanyID: "42", Zone: testZone})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGatewayCacheHit measures the gateway's own work on a request
// whose passport is cached: read and strip the session, hash it, look up
// the cache, set the passport header.
func BenchmarkGatewayCacheHit(b *testing.B) {
	f := newFixture(b)
	token, _ := f.login(b, "u-1", "42")
	h := f.gw.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(zone.ContextWithCompany(r.Context(), "42"))
	w := httptest.NewRecorder()
	bearer := []string{"Bearer " + token}
	r.Header["Authorization"] = bearer
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || f.authCalls.Load() != 1 {
		b.Fatalf("warm-up: %d, %d calls", w.Code, f.authCalls.Load())
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Header["Authorization"] = bearer // the gateway replaced it with the passport
		h.ServeHTTP(w, r)
	}
	if f.authCalls.Load() != 1 {
		b.Fatalf("%d calls to the authentication service", f.authCalls.Load())
	}
}
