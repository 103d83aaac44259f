package geofence_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// spellings returns name in the spellings that reach a server as the same
// header for a proxy or framework that folds case and '_' into '-', and
// that edge.SameHeaderName matches.
func spellings(name string) []string {
	cases := []func(string) string{
		func(s string) string { return s },
		strings.ToLower, strings.ToUpper, http.CanonicalHeaderKey,
		func(s string) string { // aLtErNaTiNg
			b := []byte(strings.ToLower(s))
			for i := range b {
				if i%2 == 1 && 'a' <= b[i] && b[i] <= 'z' {
					b[i] -= 'a' - 'A'
				}
			}
			return string(b)
		},
	}
	var out []string
	seen := map[string]bool{}
	for _, sep := range []string{"-", "_", ".", "~", "+"} {
		for _, c := range cases {
			s := c(strings.ReplaceAll(name, "-", sep))
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// fenceRig is a fence over company 3 (GB only) and company 5 (no policy),
// trusting requests from 198.51.100.0/24 (the CDN), locating others in a
// database where 192.0.2.0/24 is GB and 2001:db8:2::/48 is FR.
type fenceRig struct {
	h        http.Handler
	sawFence []string // country headers the cell saw, every spelling
	country  string   // the country the cell was told
}

func newFenceRig(t *testing.T, opts ...geofence.FenceOption) *fenceRig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	writeDatabase(t, path, versionA)
	db, err := geofence.OpenDatabase(path)
	require.NoError(t, err)
	policies, err := geofence.NewStaticPolicies(map[string]geofence.PolicyConfig{"3": {AllowCountries: []string{"GB"}}})
	require.NoError(t, err)
	cdn, err := edge.TrustNetworks("198.51.100.0/24")
	require.NoError(t, err)
	fence, err := geofence.NewFence(policies, append([]geofence.FenceOption{geofence.WithTrust(cdn), geofence.WithDatabase(db)}, opts...)...)
	require.NoError(t, err)
	rig := &fenceRig{}
	rig.h = edge.Chain(must.Build(zone.DetectCompany()), fence.Middleware)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			for _, n := range []string{"CF-IPCountry", "CloudFront-Viewer-Country", "X-Geo-Country"} {
				if edge.SameHeaderName(k, n) {
					rig.sawFence = append(rig.sawFence, k)
				}
			}
		}
		rig.country, _ = geofence.CountryFromContext(r.Context())
	}))
	return rig
}

func (rig *fenceRig) serve(company, remote string, header http.Header) int {
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.RemoteAddr = remote
	r.Header.Set(zone.DefaultCompanyHeader, company)
	for k, v := range header {
		r.Header[k] = v // as sent: no canonicalisation
	}
	rig.sawFence, rig.country = nil, ""
	rec := httptest.NewRecorder()
	rig.h.ServeHTTP(rec, r)
	return rec.Code
}

// Differential: for every spelling of every country header, every value and
// every client, an untrusted client's header changes nothing (the decision
// is the one without the header) and reaches no one further in.
func TestClientCountryHeaderNeverDecides(t *testing.T) {
	for _, custom := range []bool{false, true} {
		var opts []geofence.FenceOption
		names := []string{"CF-IPCountry", "CloudFront-Viewer-Country"}
		if custom {
			opts = append(opts, geofence.WithCountryHeaders("X-Geo-Country"))
			names = []string{"X-Geo-Country"}
		}
		rig := newFenceRig(t, opts...)
		clients := []string{"192.0.2.7:1000", "[2001:db8:2::7]:1000", "203.0.113.7:1000", "[2001:db8:9::1]:1000"}
		cases := 0
		for _, company := range []string{"3", "5"} {
			for _, client := range clients {
				want := rig.serve(company, client, nil)
				wantCountry := rig.country
				for _, name := range names {
					for _, sp := range spellings(name) {
						for _, v := range []string{"GB", "gb", "FR", "XX", "T1", "", "GB, GB"} {
							got := rig.serve(company, client, http.Header{sp: {v}})
							assert.Equal(t, want, got, "company %s, client %s, %s: %q", company, client, sp, v)
							assert.Equal(t, wantCountry, rig.country, "company %s, client %s, %s: %q", company, client, sp, v)
							assert.Empty(t, rig.sawFence, "%s reached the cell", sp)
							cases++
						}
					}
					// Several spellings at once, agreeing and not.
					sp := spellings(name)
					got := rig.serve(company, client, http.Header{sp[0]: {"GB"}, sp[len(sp)-1]: {"GB"}, sp[3]: {"FR"}})
					assert.Equal(t, want, got)
					assert.Empty(t, rig.sawFence)
				}
			}
		}
		assert.Greater(t, cases, 500)
	}
	// The control: the same header from the trusted hop decides, so the
	// test above could have failed.
	rig := newFenceRig(t)
	assert.Equal(t, http.StatusForbidden, rig.serve("3", "198.51.100.1:1000", nil), "the CDN's address is in no country: unknown")
	for _, sp := range spellings("CF-IPCountry") {
		assert.Equal(t, http.StatusOK, rig.serve("3", "198.51.100.1:1000", http.Header{sp: {"GB"}}), sp)
		assert.Equal(t, "GB", rig.country)
		assert.Equal(t, http.StatusForbidden, rig.serve("3", "198.51.100.1:1000", http.Header{sp: {"FR"}}), sp)
	}
}

// From the trusted hop: its header decides over the database, its "XX" and
// "T1" stay unknown (the database does not overrule a Tor exit), and two
// different values are no country at all.
func TestTrustedHopCountry(t *testing.T) {
	rig := newFenceRig(t)
	viaCDN := func(client string, h http.Header) int {
		if h == nil {
			h = http.Header{}
		}
		h["X-Forwarded-For"] = []string{client}
		return rig.serve("3", "198.51.100.1:1000", h)
	}
	assert.Equal(t, http.StatusOK, viaCDN("192.0.2.7", nil), "no header: the database places the forwarded client in GB")
	assert.Equal(t, http.StatusForbidden, viaCDN("2001:db8:2::7", nil), "no header: the database places the forwarded client in FR")
	assert.Equal(t, http.StatusOK, viaCDN("2001:db8:2::7", http.Header{"Cf-Ipcountry": {"GB"}}), "the hop's header decides")
	assert.Equal(t, http.StatusForbidden, viaCDN("192.0.2.7", http.Header{"Cf-Ipcountry": {"FR"}}))
	for _, v := range []string{"XX", "T1", "", "GBR"} {
		assert.Equal(t, http.StatusForbidden, viaCDN("192.0.2.7", http.Header{"Cf-Ipcountry": {v}}), "%q: unknown, whatever the database says", v)
	}
	assert.Equal(t, http.StatusForbidden, viaCDN("192.0.2.7", http.Header{"Cf-Ipcountry": {"GB"}, "Cf_ipcountry": {"FR"}}), "two answers: none")
	assert.Equal(t, http.StatusForbidden, viaCDN("192.0.2.7", http.Header{"Cf-Ipcountry": {"GB"}, "Cloudfront-Viewer-Country": {"FR"}}))
	assert.Equal(t, http.StatusOK, viaCDN("192.0.2.7", http.Header{"Cf-Ipcountry": {"GB"}, "Cloudfront-Viewer-Country": {"gb"}}), "two that agree")
}

// From the trusted hop, what reaches the cell is what the fence decided: a
// client's own spelling that the hop passed on beside its header is gone,
// so a cell folding names (CGI's HTTP_CF_IPCOUNTRY) cannot read it.
func TestTrustedHopCountrySettled(t *testing.T) {
	rig := newFenceRig(t)
	viaCDN := func(h http.Header) int {
		h["X-Forwarded-For"] = []string{"192.0.2.7"}
		return rig.serve("5", "198.51.100.1:1000", h) // company 5: no policy, every request reaches the cell
	}
	assert.Equal(t, http.StatusOK, viaCDN(http.Header{"Cf-Ipcountry": {"FR"}, "Cf_ipcountry": {"GB"}}))
	assert.Empty(t, rig.sawFence, "two countries: none reaches the cell")
	assert.Equal(t, http.StatusOK, viaCDN(http.Header{"Cf-Ipcountry": {"GB, FR"}}))
	assert.Empty(t, rig.sawFence, "a list: no country reaches the cell")
	assert.Equal(t, http.StatusOK, viaCDN(http.Header{"Cf-Ipcountry": {"GB"}, "CF_IPCOUNTRY": {"gb"}}))
	assert.Equal(t, []string{"Cf-Ipcountry"}, rig.sawFence, "two that agree: the one canonical header")
	assert.Equal(t, http.StatusOK, viaCDN(http.Header{"Cf-Ipcountry": {"T1"}}))
	assert.Equal(t, []string{"Cf-Ipcountry"}, rig.sawFence, "the hop's one header passes as it is")
}

func TestFenceRefusalLeaksNothing(t *testing.T) {
	rig := newFenceRig(t)
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.RemoteAddr = "[2001:db8:2::7]:1000"
	r.Header.Set(zone.DefaultCompanyHeader, "3")
	rec := httptest.NewRecorder()
	rig.h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, "location_denied", problemCode(t, rec))
	for _, secret := range []string{"GB", "FR", "2001:db8", "allow", "countr"} {
		assert.NotContains(t, rec.Body.String(), secret)
	}
}

func TestNewFenceOptions(t *testing.T) {
	policies, err := geofence.NewStaticPolicies(nil)
	require.NoError(t, err)
	for name, opt := range map[string]geofence.FenceOption{
		"nil trust":    geofence.WithTrust(nil),
		"no header":    geofence.WithCountryHeaders(),
		"bad header":   geofence.WithCountryHeaders("CF IPCountry"),
		"nil database": geofence.WithDatabase(nil),
		"nil option":   nil,
		"zero":         geofence.ObserverOption{},
	} {
		_, err := geofence.NewFence(policies, opt)
		assert.ErrorContains(t, err, "geofence: NewFence", name)
	}
	_, err = geofence.NewFence(nil)
	assert.Error(t, err)
}
