package geofence_test

import (
	"bytes"
	"context"
	"encoding/json"

	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

func TestResidencyDirectory(t *testing.T) {
	obs := &recorded{}
	res, err := geofence.NewResidency(regions, geofence.WithObserver(obs))
	require.NoError(t, err)
	dir := res.Directory(poisoned(t))
	ctx := context.Background()

	for _, ok := range []string{"1", "3", "5"} {
		_, err := dir.Lookup(ctx, ok)
		assert.NoError(t, err, "company %s", ok)
	}
	for _, bad := range []string{"7", "9"} {
		z, err := dir.Lookup(ctx, bad)
		assert.ErrorIs(t, err, geofence.ErrResidencyMismatch, "company %s", bad)
		assert.Equal(t, zone.Zone{}, z, "no zone leaks out of a refused answer")
	}
	_, err = dir.Lookup(ctx, "404")
	assert.ErrorIs(t, err, zone.ErrUnknownCompany, "the directory's own errors pass unchanged")
	assert.Equal(t, []string{"uk/residency_mismatch", "uk/residency_mismatch"}, obs.all(), "refusals are counted")
}

func TestNewResidencyRefusesBadConfiguration(t *testing.T) {
	for name, zones := range map[string]map[string]geofence.Region{
		"none":         nil,
		"bad zone":     {"US01": "us"},
		"bad region":   {"us01": "U S"},
		"empty region": {"us01": ""},
	} {
		_, err := geofence.NewResidency(zones)
		assert.Error(t, err, name)
	}
	_, err := geofence.NewResidency(regions, nil)
	assert.ErrorContains(t, err, "nil or zero option")
	_, err = geofence.NewResidency(regions, geofence.ObserverOption{})
	assert.ErrorContains(t, err, "nil or zero option")
	_, err = geofence.NewResidency(regions, geofence.WithObserver(nil))
	assert.ErrorContains(t, err, "WithObserver")
}

// The router's stage: zone.Resolve over the checked directory refuses the
// uk company that the directory put in us01, and no gateway sees it.
func TestRouterRefusesCompanyOutsideItsRegion(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	us01 := &counter{}
	router, err := zone.NewRouter(map[string]zone.Endpoint{"us01": {Transport: edge.Binding(us01)}})
	require.NoError(t, err)
	h := edge.Chain(must.Build(zone.DetectCompany()), must.Build(zone.Resolve(res.Directory(poisoned(t)))), res.Middleware)(router)

	for company, want := range map[string]string{"7": "residency_mismatch", "1": "", "5": ""} {
		r := httptest.NewRequest(http.MethodGet, "/rest/v1.0/projects", nil)
		r.Header.Set(zone.DefaultCompanyHeader, company)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, want, problemCode(t, rec), "company %s", company)
		if want != "" {
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		}
	}
	assert.Equal(t, 2, us01.count(), "only companies 1 and 5 reached the gateway")
}

// The middleware checks whatever zone the context holds, even one that a
// stage put there without the checked directory.
func TestMiddlewareChecksTheZoneInContext(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	var region geofence.Region
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		region, _ = geofence.RegionFromContext(r.Context())
	})
	serve := func(z zone.Zone) *httptest.ResponseRecorder {
		region = ""
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(zone.ContextWithZone(r.Context(), z))
		rec := httptest.NewRecorder()
		res.Middleware(next).ServeHTTP(rec, r)
		return rec
	}
	assert.Equal(t, "residency_mismatch", problemCode(t, serve(zone.Zone{Name: "us02", Residency: "uk"})))
	assert.Equal(t, "", problemCode(t, serve(zone.Zone{Name: "uk01", Residency: "uk"})))
	assert.Equal(t, geofence.Region("uk"), region)
	assert.Equal(t, "residency_mismatch", problemCode(t, serve(zone.Zone{Name: "eu01", Residency: "eu"})), "a zone without a region fails closed")
}

// A canary gateway in another region never sees the company: the router
// picks the canary, and the canary's transport refuses.
func TestCanaryInAnotherRegionIsRefused(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	main, canary := &counter{}, &counter{}
	mainRT, err := res.Transport("uk", edge.Binding(main))
	require.NoError(t, err)
	canaryRT, err := res.Transport("us", edge.Binding(canary)) // misplaced: uk01's canary runs in us
	require.NoError(t, err)
	router, err := zone.NewRouter(map[string]zone.Endpoint{"uk01": {Transport: mainRT}},
		zone.WithCanary("uk01", zone.Canary{Endpoint: zone.Endpoint{Transport: canaryRT}, Percent: 100}))
	require.NoError(t, err)
	h := edge.Chain(must.Build(zone.DetectCompany()), must.Build(zone.Resolve(res.Directory(poisoned(t)))), res.Middleware)(router)

	r := httptest.NewRequest(http.MethodGet, "/rest/v1.0/projects", nil)
	r.Header.Set(zone.DefaultCompanyHeader, "3")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "residency_mismatch", problemCode(t, rec))
	assert.Zero(t, canary.count()+main.count(), "no detour: neither the canary nor the main gateway served it")
}

// session signs a user of companies in and returns the session token.
func session(t *testing.T, store passport.Store, companies ...string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	_, err := passport.SignIn(context.Background(), rec, store, passport.Session{User: "u-1", Companies: companies})
	require.NoError(t, err)
	return rec.Result().Cookies()[0].Value
}

func authParts(t *testing.T) (passport.Store, *passport.Issuer) {
	t.Helper()
	store, err := passport.NewMemoryStore()
	require.NoError(t, err)
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.example.com", key)
	require.NoError(t, err)
	return store, issuer
}

// The gateway's stage: a us01 gateway with the checked directory refuses
// the uk company before it asks for a passport, although the
// authentication service behind it (unchecked here) would mint one.
func TestGatewayRefusesCompanyOutsideItsRegion(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	store, issuer := authParts(t)
	dir := poisoned(t)
	auth, err := passport.NewAuthService(store, issuer, dir) // no residency check: the gateway must hold alone
	require.NoError(t, err)
	mints := &countingHandler{next: auth}
	gw, err := passport.NewGateway("us01", res.Directory(dir), passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(mints)})
	require.NoError(t, err)
	cell := &counter{}
	h := edge.Chain(must.Build(zone.DetectCompany()), gw.Middleware)(cell)
	token := session(t, store, "1", "7")

	get := func(company string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.AddCookie(&http.Cookie{Name: passport.DefaultCookie, Value: token})
		r.Header.Set(zone.DefaultCompanyHeader, company)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	rec := get("7")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "residency_mismatch", problemCode(t, rec))
	assert.Zero(t, mints.count(), "no passport was asked for")
	assert.Zero(t, cell.count())

	assert.Equal(t, http.StatusNoContent, get("1").Code, "a us company of us01 is served")
	assert.Equal(t, 1, mints.count())
}

// The authentication service's stage: asked straight for a passport of the
// uk company in us01 (a gateway without the check), it refuses to mint.
func TestAuthServiceRefusesCompanyOutsideItsRegion(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	store, issuer := authParts(t)
	auth, err := passport.NewAuthService(store, issuer, res.Directory(poisoned(t)))
	require.NoError(t, err)
	token := session(t, store, "1", "7")

	mint := func(company string) (int, string) {
		body, _ := json.Marshal(map[string]string{"session_key": passport.TokenKey(token), "company_id": company, "zone": "us01"})
		req, err := http.NewRequest(http.MethodPost, "http://auth.internal/passports", bytes.NewReader(body))
		require.NoError(t, err)
		resp, err := edge.Binding(auth).RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return resp.StatusCode, ""
		}
		p, err := edge.ReadProblem(resp)
		require.NoError(t, err)
		return resp.StatusCode, p.Code()
	}
	status, code := mint("7")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "residency_mismatch", code)
	status, _ = mint("1")
	assert.Equal(t, http.StatusOK, status, "a us company in us01 gets its passport")
}

type countingHandler struct {
	counter
	next http.Handler
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}
