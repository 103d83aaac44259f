package passport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
)

// One zone in one process: a login stores a session, the gateway swaps the
// client's session cookie for a passport, the cell verifies it, and a
// revocation takes effect at once.
func Example() {
	store, _ := passport.NewMemoryStore()
	key, _ := passport.GenerateKey(passport.EdDSA)
	issuer, _ := passport.NewIssuer("https://auth.example.com", key)
	auth, _ := passport.NewAuthService(store, issuer)

	gw, _ := passport.NewGateway("us01", "http://auth.internal/passports", edge.Binding(auth))
	defer store.Subscribe(gw.Revoked)()

	v, _ := passport.NewVerifier("https://auth.example.com", "us01", passport.WithStaticKeys(issuer.PublicKeys()...))
	cell := passport.Require(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := passport.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "user %s, company %s, zone %s", c.Subject, c.CompanyID, c.Zone)
	}))
	front := edge.Chain(zone.DetectCompany(), gw.Middleware)(cell)

	// A login service stores the session under the token's hash and hands
	// the token to the browser.
	token := passport.NewToken()
	now := time.Now()
	s := passport.Session{ID: passport.NewSessionID(), User: "u-7", Companies: []string{"42"}, Created: now, Expires: now.Add(8 * time.Hour)}
	_ = store.Put(context.Background(), passport.TokenKey(token), s)

	get := func() {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.AddCookie(&http.Cookie{Name: passport.DefaultCookie, Value: token})
		r.Header.Set("Procore-Company-Id", "42")
		w := httptest.NewRecorder()
		front.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	get()
	_ = store.RevokeUser(context.Background(), "u-7")
	get()
	// Output:
	// 200 user u-7, company 42, zone us01
	// 401 {"type":"urn:cellgate:problem:session_revoked","title":"Unauthorized","status":401,"detail":"The session was ended. Please sign in again.","code":"session_revoked"}
}
