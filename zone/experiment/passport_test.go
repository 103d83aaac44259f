package experiment_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/experiment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkout assigns users, banner companies.
var testExperiments = []experiment.Experiment{
	{Key: "checkout", Unit: experiment.UnitUser, Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}}},
	{Key: "banner", Unit: experiment.UnitCompany, Variants: []experiment.Variant{{Name: "off", Weight: 1}, {Name: "on", Weight: 1}}},
}

// seen is what the cell saw of one request.
type seen struct {
	claims *passport.Claims
	header []string // every value of experiment.Header, any spelling
	edge   experiment.Variants
}

// stack is one zone's path in one process: a session store, an issuer
// whose passports carry the Set's variants, the authentication service,
// a gateway with the Set's middleware behind it and a verifying cell.
type stack struct {
	store *passport.MemoryStore
	set   *experiment.Set
	front http.Handler
	cell  chan seen
}

func newStack(t *testing.T, exps []experiment.Experiment) *stack {
	t.Helper()
	s := &stack{cell: make(chan seen, 1)}
	var err error
	s.set, err = experiment.NewSet(exps)
	require.NoError(t, err)
	s.store, err = passport.NewMemoryStore()
	require.NoError(t, err)
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.test", key, passport.WithVariants(func(sub passport.Subject) map[string]string {
		return s.set.Assign(experiment.Units{User: sub.User, Session: sub.SessionID, Company: sub.CompanyID}).Map()
	}))
	require.NoError(t, err)
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.test"}, "43": {Name: "us01", WebBaseURL: "https://us01.test"}})
	require.NoError(t, err)
	auth, err := passport.NewAuthService(s.store, issuer, dir)
	require.NoError(t, err)
	gw, err := passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(auth)})
	require.NoError(t, err)
	verifier, err := passport.NewVerifier(passport.Expected{Issuer: "https://auth.test", Audience: "us01"}, passport.WithInProcessIssuer(issuer))
	require.NoError(t, err)
	cell := verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := edge.HeaderValues(r.Header, experiment.Header)
		s.cell <- seen{claims: passport.ClaimsFromContext(r.Context()), header: v}
	}))
	// What a cache in front of the cell would see: the edge's context.
	edgeSide := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			got := <-s.cell
			got.edge = experiment.VariantsFromContext(r.Context())
			s.cell <- got
		})
	}
	s.front = edge.Chain(must.Build(edge.StripInternal()), must.Build(zone.DetectCompany(zone.WithOptional())), gw.Middleware, s.set.Middleware, edgeSide)(cell)
	return s
}

// login stores a session of user for companies 42 and 43 and returns its token.
func (s *stack) login(t *testing.T, user string) string {
	t.Helper()
	token := passport.NewToken()
	require.NoError(t, s.store.Put(context.Background(), passport.TokenKey(token), passport.Session{
		ID: passport.NewSessionID(), User: user, Companies: []string{"42", "43"},
		Created: time.Now(), Expires: time.Now().Add(time.Hour),
	}))
	return token
}

func (s *stack) do(t *testing.T, token, company string, hdr ...string) seen {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Procore-Company-Id", company)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.front.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return <-s.cell
}

// TestPassportRoundTrip: the issuer signs the Set's variants into the
// passport, the cell's verifier exposes them (ClaimsFromContext), the
// gateway forwards the same in experiment.Header, and the edge's context
// (VariantsFromContext) holds the same again.
func TestPassportRoundTrip(t *testing.T) {
	require.Equal(t, passport.HeaderVariants, experiment.Header, "one header, two names")
	s := newStack(t, testExperiments)
	token := s.login(t, "u-7")
	got := s.do(t, token, "42")
	require.NotNil(t, got.claims)
	want := experiment.Variants{
		{Experiment: "banner", Variant: testExperiments[1].Assign("42")},
		{Experiment: "checkout", Variant: testExperiments[0].Assign("u-7")},
	}
	assert.Equal(t, want.Map(), got.claims.Variants, "signed claim")
	assert.Equal(t, []string{want.String()}, got.header, "header to the cell")
	assert.Equal(t, want, got.edge, "edge context")
	assert.Equal(t, []uint64{boolCount(want.Get("checkout") == "control"), boolCount(want.Get("checkout") == "treatment")},
		s.set.Exposures("checkout"), "one exposure counted")
}

func boolCount(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestForgedHeaderNeverReachesCell: a client's Cellgate-Experiments, in
// every spelling, is stripped by the edge; and the gateway replaces what
// a trusted hop could have sent, so the cell and the edge's context hold
// only the signed variants.
func TestForgedHeaderNeverReachesCell(t *testing.T) {
	spellings := []string{"Cellgate-Experiments", "cellgate-experiments", "CELLGATE-EXPERIMENTS", "Cellgate_Experiments",
		"cellgate_experiments", "CELLGATE_EXPERIMENTS", "Cellgate.Experiments", "cellgate-Experiments", "Cellgate~Experiments"}
	s := newStack(t, testExperiments)
	token := s.login(t, "u-7")
	honest := s.do(t, token, "42")
	for _, name := range spellings {
		t.Run(name, func(t *testing.T) {
			// StripInternal alone removes it from an untrusted request.
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header[name] = []string{"checkout=forged"}
			var after http.Header
			must.Build(edge.StripInternal())(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { after = r.Header.Clone() })).
				ServeHTTP(httptest.NewRecorder(), r)
			v, _ := edge.HeaderValues(after, experiment.Header)
			assert.Empty(t, v, "StripInternal kept %s", name)

			// Through the whole stack the cell sees the signed variants.
			got := s.do(t, token, "42", name, "checkout=forged, banner=forged")
			assert.Equal(t, honest.header, got.header)
			assert.Equal(t, honest.edge, got.edge)
			assert.Equal(t, honest.claims.Variants, got.claims.Variants)
		})
	}
}

// TestGatewayReplacesTrustedHopsHeader: even without StripInternal in
// front (a trusted hop), the gateway deletes every inbound spelling before
// forwarding the passport's.
func TestGatewayReplacesTrustedHopsHeader(t *testing.T) {
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.test"}})
	require.NoError(t, err)
	gw, err := passport.NewGateway("us01", dir, passport.Endpoint{URL: "http://auth.internal/passports"}, passport.WithPublic(func(*http.Request) bool { return true }))
	require.NoError(t, err)
	var got http.Header
	h := edge.Chain(must.Build(zone.DetectCompany(zone.WithOptional())), gw.Middleware)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["Cellgate_Experiments"] = []string{"checkout=forged"}
	r.Header["cellgate-experiments"] = []string{"checkout=forged"}
	h.ServeHTTP(httptest.NewRecorder(), r)
	v, _ := edge.HeaderValues(got, experiment.Header)
	assert.Empty(t, v, "a public request without a passport kept a forged header")
}

// TestStickyAcrossSessionsAndGateways: one user gets the same variant of a
// user experiment through two independent stacks (issuer, gateway, keys)
// and in two sessions; a session experiment may differ between sessions
// but never within one.
func TestStickyAcrossSessionsAndGateways(t *testing.T) {
	exps := append(testExperiments, experiment.Experiment{Key: "layout", Unit: experiment.UnitSession,
		Variants: []experiment.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}}})
	one, two := newStack(t, exps), newStack(t, exps)
	for _, user := range []string{"u-1", "u-2", "u-3", "u-4", "u-5"} {
		a, b := one.do(t, one.login(t, user), "42"), two.do(t, two.login(t, user), "43")
		assert.Equal(t, a.claims.Variants["checkout"], b.claims.Variants["checkout"], "user %s", user)
		assert.NotEmpty(t, a.claims.Variants["checkout"])
	}
	token := one.login(t, "u-9")
	first := one.do(t, token, "42")
	for range 3 {
		assert.Equal(t, first.claims.Variants["layout"], one.do(t, token, "42").claims.Variants["layout"])
	}
}
