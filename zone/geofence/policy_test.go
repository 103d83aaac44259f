package geofence_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/zone/geofence"
)

func TestParseCountry(t *testing.T) {
	for in, want := range map[string]string{
		"GB": "GB", "gb": "GB", "Gb": "GB", "US": "US",
		"XX": "", "xx": "", "T1": "", "": "", "G": "", "GBR": "", "G1": "", "1G": "", "é": "", " GB": "",
	} {
		c := geofence.ParseCountry(in)
		assert.Equal(t, want, c.String(), "%q", in)
		assert.Equal(t, want != "", c.Known(), "%q", in)
	}
	assert.Equal(t, geofence.ParseCountry("gb"), geofence.ParseCountry("GB"))
}

func TestPolicyAdmits(t *testing.T) {
	gb, fr, unknown := geofence.ParseCountry("GB"), geofence.ParseCountry("FR"), geofence.Country{}
	office4 := netip.MustParseAddr("203.0.113.9")
	office6 := netip.MustParseAddr("2001:db8:5::9")
	mapped := netip.MustParseAddr("::ffff:203.0.113.9")
	elsewhere := netip.MustParseAddr("198.51.100.1")
	elsewhere6 := netip.MustParseAddr("2001:db8:6::1")
	blocked := netip.MustParseAddr("203.0.113.66")
	none := netip.Addr{}

	for _, tc := range []struct {
		name   string
		cfg    geofence.PolicyConfig
		addr   netip.Addr
		c      geofence.Country
		admits bool
	}{
		{"allow list: listed", geofence.PolicyConfig{AllowCountries: []string{"GB"}}, elsewhere, gb, true},
		{"allow list: not listed", geofence.PolicyConfig{AllowCountries: []string{"GB"}}, elsewhere, fr, false},
		{"allow list: unknown", geofence.PolicyConfig{AllowCountries: []string{"GB"}}, elsewhere, unknown, false},
		{"allow list: unknown, allowed", geofence.PolicyConfig{AllowCountries: []string{"GB"}, AllowUnknown: true}, elsewhere, unknown, true},
		{"allow list in lower case", geofence.PolicyConfig{AllowCountries: []string{"gb"}}, elsewhere, gb, true},
		{"deny list: listed", geofence.PolicyConfig{DenyCountries: []string{"FR"}}, elsewhere, fr, false},
		{"deny list: not listed", geofence.PolicyConfig{DenyCountries: []string{"FR"}}, elsewhere, gb, true},
		{"deny list: unknown denied by default", geofence.PolicyConfig{DenyCountries: []string{"FR"}}, elsewhere, unknown, false},
		{"deny list: unknown allowed", geofence.PolicyConfig{DenyCountries: []string{"FR"}, AllowUnknown: true}, elsewhere, unknown, true},
		{"empty policy: unknown denied", geofence.PolicyConfig{}, none, unknown, false},
		{"empty policy: known admitted", geofence.PolicyConfig{}, none, fr, true},
		{"deny networks: unknown address refused", geofence.PolicyConfig{DenyNetworks: []string{"203.0.113.64/26"}}, none, gb, false},
		{"deny networks: known address elsewhere admitted", geofence.PolicyConfig{DenyNetworks: []string{"203.0.113.64/26"}}, elsewhere, gb, true},
		{"network v4 admits from anywhere", geofence.PolicyConfig{AllowCountries: []string{"GB"}, AllowNetworks: []string{"203.0.113.0/24"}}, office4, fr, true},
		{"network v4 admits mapped v6", geofence.PolicyConfig{AllowNetworks: []string{"203.0.113.0/24"}}, mapped, unknown, true},
		{"network v6", geofence.PolicyConfig{AllowNetworks: []string{"2001:db8:5::/48"}}, office6, unknown, true},
		{"networks only: elsewhere refused", geofence.PolicyConfig{AllowNetworks: []string{"2001:db8:5::/48"}}, elsewhere6, gb, false},
		{"networks only: unknown refused even with AllowUnknown", geofence.PolicyConfig{AllowNetworks: []string{"2001:db8:5::/48"}, AllowUnknown: true}, elsewhere6, unknown, false},
		{"networks or countries", geofence.PolicyConfig{AllowCountries: []string{"GB"}, AllowNetworks: []string{"2001:db8:5::/48"}}, elsewhere6, gb, true},
		{"deny network beats allow", geofence.PolicyConfig{AllowNetworks: []string{"203.0.113.0/24"}, DenyNetworks: []string{"203.0.113.64/26"}}, blocked, gb, false},
		{"deny network beats country", geofence.PolicyConfig{AllowCountries: []string{"GB"}, DenyNetworks: []string{"2001:db8:6::/48"}}, elsewhere6, gb, false},
		{"deny country beats allow country", geofence.PolicyConfig{AllowCountries: []string{"GB"}, DenyCountries: []string{"GB"}}, elsewhere, gb, false},
		{"4-in-6 prefix matches v4", geofence.PolicyConfig{AllowNetworks: []string{"::ffff:203.0.113.0/120"}}, office4, unknown, true},
	} {
		p, err := geofence.NewPolicy(tc.cfg)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.admits, p.Admits(tc.addr, tc.c), tc.name)
	}
}

func TestNewPolicyRefusesBadInput(t *testing.T) {
	for name, cfg := range map[string]geofence.PolicyConfig{
		"XX listed":     {AllowCountries: []string{"XX"}},
		"T1 listed":     {DenyCountries: []string{"T1"}},
		"three letters": {AllowCountries: []string{"GBR"}},
		"bad CIDR":      {AllowNetworks: []string{"203.0.113.0"}},
		"zone in CIDR":  {DenyNetworks: []string{"fe80::1%eth0/64"}},
		// Unmapped to 10.0.0.0/-88 it matched nothing: a deny that denied no one.
		"4-in-6 prefix shorter than /96": {DenyNetworks: []string{"::ffff:10.0.0.0/8"}},
	} {
		_, err := geofence.NewPolicy(cfg)
		assert.Error(t, err, name)
	}
}

func TestReadStaticPoliciesIsStrict(t *testing.T) {
	p, err := geofence.ReadStaticPolicies(strings.NewReader(`{"3": {"allow_countries": ["GB"], "allow_networks": ["2001:db8:5::/48"]}}`))
	require.NoError(t, err)
	got, err := p.Policy(t.Context(), "3")
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.True(t, got.Admits(netip.Addr{}, geofence.ParseCountry("GB")))
	none, err := p.Policy(t.Context(), "4")
	require.NoError(t, err)
	assert.Nil(t, none, "a company without a policy")

	for name, doc := range map[string]string{
		"typo":        `{"3": {"allow_country": ["GB"]}}`,
		"twice":       `{"3": {"allow_countries": ["GB"], "allow_countries": ["FR"]}}`,
		"twice, case": `{"3": {"allow_countries": ["GB"], "ALLOW_COUNTRIES": []}}`, // encoding/json reads the last: open to all
		"company x2":  `{"3": {}, "3": {"allow_countries": ["GB"]}}`,
		"null":        `{"3": null}`,
		"trailing":    `{"3": {}} {}`,
		"bad company": `{"three": {}}`,
		"bad country": `{"3": {"allow_countries": ["Great Britain"]}}`,
	} {
		_, err := geofence.ReadStaticPolicies(strings.NewReader(doc))
		assert.Error(t, err, name)
	}
}
