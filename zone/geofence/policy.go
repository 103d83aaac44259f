package geofence

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/cellgate/cellgate/internal/strictjson"
	"github.com/cellgate/cellgate/zone"
)

// PolicyConfig is one company's client location policy as written, in Go
// or in JSON:
//
//	{"allow_countries": ["GB", "IE"], "allow_networks": ["203.0.113.0/24", "2001:db8:5::/48"]}
//
// A client is admitted or refused by the first rule that speaks:
//
//  1. its address in DenyNetworks: refused;
//  2. its address in AllowNetworks: admitted (an office or VPN egress,
//     wherever it is);
//  3. its country unknown, "XX" (unknown to the hop) or "T1" (Tor):
//     refused, unless AllowUnknown, which admits it as if its country
//     were listed (rule 6 still refuses it);
//  4. its country in DenyCountries: refused;
//  5. AllowCountries given: admitted only when its country is listed;
//  6. AllowNetworks given but no AllowCountries: refused (only the
//     networks are admitted);
//  7. admitted.
//
// Countries are ISO 3166-1 alpha-2 codes, compared case-insensitively;
// networks are CIDR prefixes, IPv4 or IPv6 (an IPv4 prefix also matches
// IPv4-mapped IPv6 clients).
type PolicyConfig struct {
	// AllowCountries, when given, are the only countries admitted (rule 5).
	AllowCountries []string `json:"allow_countries,omitempty"`
	// DenyCountries are refused (rule 4).
	DenyCountries []string `json:"deny_countries,omitempty"`
	// AllowNetworks are admitted wherever they are (rule 2) and, without
	// AllowCountries, the only clients admitted (rule 6).
	AllowNetworks []string `json:"allow_networks,omitempty"`
	// DenyNetworks are refused before anything else (rule 1).
	DenyNetworks []string `json:"deny_networks,omitempty"`
	// AllowUnknown admits clients whose country is not known (rule 3).
	// Default: refused.
	AllowUnknown bool `json:"allow_unknown,omitempty"`
}

// Policy is a checked, compiled PolicyConfig. Its Admits allocates nothing.
type Policy struct {
	allowC, denyC countrySet
	hasAllowC     bool
	allowN, denyN []netip.Prefix
	allowUnknown  bool
}

// NewPolicy checks and compiles cfg.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{allowUnknown: cfg.AllowUnknown, hasAllowC: len(cfg.AllowCountries) > 0}
	var err error
	if p.allowC, err = newCountrySet(cfg.AllowCountries); err != nil {
		return nil, fmt.Errorf("allow_countries: %w", err)
	}
	if p.denyC, err = newCountrySet(cfg.DenyCountries); err != nil {
		return nil, fmt.Errorf("deny_countries: %w", err)
	}
	if p.allowN, err = parsePrefixes(cfg.AllowNetworks); err != nil {
		return nil, fmt.Errorf("allow_networks: %w", err)
	}
	if p.denyN, err = parsePrefixes(cfg.DenyNetworks); err != nil {
		return nil, fmt.Errorf("deny_networks: %w", err)
	}
	return p, nil
}

// Admits reports whether the policy admits a client at addr (the zero Addr
// when unknown) in country (a Country, unknown when !country.Known()). An
// unknown address is refused where the policy denies networks: nothing
// shows the client is outside them.
func (p *Policy) Admits(addr netip.Addr, country Country) bool {
	if !addr.IsValid() && len(p.denyN) > 0 {
		return false
	}
	if addr.IsValid() {
		addr = addr.Unmap()
		if contains(p.denyN, addr) {
			return false
		}
		if contains(p.allowN, addr) {
			return true
		}
	}
	if !country.Known() {
		return p.allowUnknown && (p.hasAllowC || len(p.allowN) == 0)
	}
	if p.denyC.has(country) {
		return false
	}
	if p.hasAllowC {
		return p.allowC.has(country)
	}
	return len(p.allowN) == 0
}

func contains(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func parsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix", s)
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("%q has a zone", s)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				// Unmapped, it would be no prefix at all, and match nothing.
				return nil, fmt.Errorf("%q is an IPv4-mapped prefix shorter than /96: write the IPv4 prefix", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// PolicySource gives the location policy of a company: a *Policy, or nil
// when the company has none (every client admitted). An error means the
// source could not tell; the request is then refused (503
// location_policy_unavailable), never let through. Policy is called on
// every request of a company and should answer from memory.
type PolicySource interface {
	Policy(ctx context.Context, company string) (*Policy, error)
}

// StaticPolicies is a PolicySource held in memory, keyed by company id.
type StaticPolicies struct {
	policies map[string]*Policy
}

// NewStaticPolicies checks and compiles policies, keyed by company id
// (zone.ValidCompanyID).
func NewStaticPolicies(policies map[string]PolicyConfig) (*StaticPolicies, error) {
	s := &StaticPolicies{policies: make(map[string]*Policy, len(policies))}
	for company, cfg := range policies {
		if !zone.ValidCompanyID(company) {
			return nil, fmt.Errorf("geofence: policies: invalid company id %q", company)
		}
		p, err := NewPolicy(cfg)
		if err != nil {
			return nil, fmt.Errorf("geofence: policies: company %s: %w", company, err)
		}
		s.policies[company] = p
	}
	return s, nil
}

// MaxPoliciesBytes bounds the JSON document of ReadStaticPolicies.
const MaxPoliciesBytes = 64 << 20

// ReadStaticPolicies reads policies from JSON, an object mapping company
// ids to PolicyConfig:
//
//	{"2002": {"allow_countries": ["GB"], "allow_networks": ["2001:db8:5::/48"]}}
//
// It is read strictly: unknown fields, a company or a field named twice,
// null and data after the object are errors, so a typo cannot silently
// open a company to the world.
func ReadStaticPolicies(r io.Reader) (*StaticPolicies, error) {
	var doc map[string]*PolicyConfig
	if err := strictjson.Decode(r, MaxPoliciesBytes, &doc); err != nil {
		return nil, fmt.Errorf("geofence: policies: %w", err)
	}
	m := make(map[string]PolicyConfig, len(doc))
	for company, cfg := range doc {
		if cfg == nil {
			return nil, fmt.Errorf("geofence: policies: company %s: null policy", company)
		}
		m[company] = *cfg
	}
	return NewStaticPolicies(m)
}

// LoadStaticPolicies reads policies from the JSON file at path (see
// ReadStaticPolicies).
func LoadStaticPolicies(path string) (*StaticPolicies, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geofence: policies: %w", err)
	}
	defer f.Close()
	return ReadStaticPolicies(f)
}

// Policy implements PolicySource.
func (s *StaticPolicies) Policy(_ context.Context, company string) (*Policy, error) {
	return s.policies[company], nil
}
