package passport

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/zone"
	"github.com/stretchr/testify/require"
)

const (
	testIss  = "https://auth.test"
	testZone = "us01"
	authURL  = "http://auth.internal/passports"
)

// testDirectory places the test companies: 42, 43, 44 and 99 in testZone, 7 and
// 8 in us02; any other company is unknown.
func testDirectory(t testing.TB) *zone.StaticDirectory {
	t.Helper()
	us01, us02 := zone.Zone{Name: testZone, WebBaseURL: "https://us01.test"}, zone.Zone{Name: "us02", WebBaseURL: "https://us02.test"}
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": us01, "43": us01, "99": us01, "44": us01, "7": us02, "8": us02})
	require.NoError(t, err)
	return dir
}

// newClock returns a fake clock; tests move it instead of sleeping. It
// starts on a whole second because JWT times are whole seconds.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// fixture is one zone's whole path in one process: store, issuer, the
// authentication service behind a binding, the gateway and the cell.
type fixture struct {
	clk       *fakeclock.Clock
	store     *MemoryStore
	key       SigningKey
	issuer    *Issuer
	auth      *AuthService
	authCalls atomic.Int64
	gw        *Gateway
	verifier  *Verifier
	front     http.Handler
	seen      chan http.Header // headers the cell received
}

func newFixture(t testing.TB, gwOpts ...GatewayOption) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(), seen: make(chan http.Header, 1)}
	var err error
	f.store, err = NewMemoryStore(WithClock(f.clk.Now))
	require.NoError(t, err)
	f.key, err = GenerateKey(EdDSA)
	require.NoError(t, err)
	f.issuer, err = NewIssuer(testIss, f.key, WithClock(f.clk.Now))
	require.NoError(t, err)
	dir := testDirectory(t)
	f.auth, err = NewAuthService(f.store, f.issuer, dir)
	require.NoError(t, err)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.authCalls.Add(1)
		f.auth.ServeHTTP(w, r)
	})
	f.gw, err = NewGateway(testZone, dir, Endpoint{URL: authURL, Transport: edge.Binding(counted)}, append([]GatewayOption{WithClock(f.clk.Now)}, gwOpts...)...)
	require.NoError(t, err)
	cancel := f.store.Subscribe(f.gw.Revoked)
	t.Cleanup(cancel)
	// Of the gateway's options, the passport header concerns the cell too.
	vOpts := []VerifierOption{WithInProcessIssuer(f.issuer), WithClock(f.clk.Now)}
	for _, o := range gwOpts {
		if h, ok := o.(PassportHeaderOption); ok {
			vOpts = append(vOpts, h)
		}
	}
	f.verifier, err = NewVerifier(Expected{Issuer: testIss, Audience: testZone}, vOpts...)
	require.NoError(t, err)
	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.seen <- r.Header.Clone():
		default:
		}
		c := ClaimsFromContext(r.Context())
		if c == nil {
			edge.WriteJSON(w, http.StatusOK, map[string]string{"anonymous": "yes"})
			return
		}
		edge.WriteJSON(w, http.StatusOK, map[string]string{
			"sub": c.Subject, "company_id": c.CompanyID, "zone": c.Zone, "sid": c.SessionID,
			"ctx_company": zone.CompanyFromContext(r.Context()),
		})
	})
	// The cell accepts anonymous requests only where the gateway made them
	// so (public routes); everything else must carry a passport.
	verified := f.verifier.Middleware(cell)
	detect, err := zone.DetectCompany(zone.WithOptional())
	if err != nil {
		t.Fatal(err)
	}
	f.front = edge.Chain(detect, f.gw.Middleware)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" && r.Header.Get("Cellgate-Passport") == "" {
				cell.ServeHTTP(w, r)
				return
			}
			verified.ServeHTTP(w, r)
		}))
	return f
}

// login stores a session for user and returns its token.
func (f *fixture) login(t testing.TB, user string, companies ...string) (string, Session) {
	t.Helper()
	token := NewToken()
	s := Session{
		ID: NewSessionID(), User: user, Companies: companies,
		Created: f.clk.Now(), Expires: f.clk.Now().Add(8 * time.Hour),
	}
	require.NoError(t, f.store.Put(context.Background(), TokenKey(token), s))
	return token, s
}

// do sends a request through the front with the session as a Bearer token
// (cookie when asCookie) for company.
func (f *fixture) do(token, company string, asCookie bool, hdr ...string) *httptest.ResponseRecorder {
	return f.doPath("/projects", token, company, asCookie, hdr...)
}

// doPath is do for another path.
func (f *fixture) doPath(path, token, company string, asCookie bool, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		if asCookie {
			r.Header.Set("Cookie", "theme=dark; "+DefaultCookie+"="+token+"; lang=en")
		} else {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}
	if company != "" {
		r.Header.Set("Procore-Company-Id", company)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.front.ServeHTTP(w, r)
	return w
}

// problemCode returns the code of a problem response, or "" for success.
func problemCode(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code < 400 {
		return ""
	}
	require.Equal(t, edge.ContentTypeProblem, w.Header().Get("Content-Type"), w.Body.String())
	var p struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	return p.Code
}

func body(t testing.TB, w *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	return m
}
