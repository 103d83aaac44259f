package passport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

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
	dir, _ := zone.NewStaticDirectory(map[string]zone.Zone{
		"42": {Name: "us01", WebBaseURL: "https://us01.example.com"},
		"43": {Name: "us02", WebBaseURL: "https://us02.example.com"},
	})
	auth, _ := passport.NewAuthService(store, issuer, dir)

	// The gateway of us01 checks every company against the directory itself.
	gw, _ := passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(auth)})
	defer gw.Watch(store)()

	// The cell follows the issuer's keys, rotations included.
	v, _ := passport.NewVerifier(passport.Expected{Issuer: "https://auth.example.com", Audience: "us01"}, passport.WithInProcessIssuer(issuer))
	cell := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := passport.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "user %s, company %s, zone %s", c.Subject, c.CompanyID, c.Zone)
	}))
	detect, _ := zone.DetectCompany()
	front := edge.Chain(detect, gw.Middleware)(cell)

	// A login handler signs the user in: the session goes into the store
	// under the token's hash, the token into the browser's cookie.
	signedIn := httptest.NewRecorder()
	_, _ = passport.SignIn(context.Background(), signedIn, store, passport.Session{User: "u-7", Companies: []string{"42"}})
	cookie := signedIn.Result().Cookies()[0]

	get := func(company string) {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.AddCookie(cookie)
		r.Header.Set("Procore-Company-Id", company)
		w := httptest.NewRecorder()
		front.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	get("42")
	get("43") // company 43 lives in us02: not this gateway's
	_ = store.RevokeUser(context.Background(), "u-7")
	get("42")
	// Output:
	// 200 user u-7, company 42, zone us01
	// 421 {"type":"urn:cellgate:problem:zone_misdirected","title":"Misdirected Request","status":421,"detail":"The request reached the gateway of another zone.","code":"zone_misdirected"}
	// 401 {"type":"urn:cellgate:problem:session_revoked","title":"Unauthorized","status":401,"detail":"The session was ended. Please sign in again.","code":"session_revoked"}
}

// A login handler signs the user in with one call: the session is stored
// under a fresh token, and the token goes to the browser in a cookie it
// sends back but cannot read from script.
func ExampleSignIn() {
	store, _ := passport.NewMemoryStore()
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := passport.SignIn(r.Context(), w, store, passport.Session{User: "u-7", Companies: []string{"42"}})
		if err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		fmt.Fprintln(w, "signed in until", s.Expires.Sub(s.Created))
	})
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
	c := w.Result().Cookies()[0]
	fmt.Print(w.Body.String())
	fmt.Println(c.Name, c.HttpOnly, c.Secure, c.SameSite == http.SameSiteLaxMode, c.Path)
	// Output:
	// signed in until 8h0m0s
	// cellgate_session true true true /
}
