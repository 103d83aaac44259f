package geofence

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Fence applies each company's client location policy (a PolicySource) to
// its requests: a client the policy does not admit is answered 403
// location_denied, whose body says nothing of the policy.
//
// The client's address is the connection's, or, from a trusted hop
// (WithTrust), the last X-Forwarded-For entry (edge.ClientAddr), the rule
// the request ID and tracing follow. Its country comes from a trusted hop's
// header (WithCountryHeaders: CF-IPCountry, CloudFront-Viewer-Country by
// default) and otherwise from a MaxMind database (WithDatabase), else it is
// unknown. A country header from any other request is deleted, in every
// spelling (case, '_' for '-'), before anything reads it: a client never
// decides its own country, here or further in. A trusted hop that sends
// two different values, or one that is no country code, leaves the country
// unknown, which a policy refuses by default.
type Fence struct {
	policies PolicySource
	trust    edge.Trust
	headers  []string
	db       *Database
	obs      Observer
}

// NewFence returns the location fence over policies. Options: WithTrust,
// WithCountryHeaders, WithDatabase, WithObserver.
func NewFence(policies PolicySource, opts ...FenceOption) (*Fence, error) {
	c, err := newConfig("NewFence", opts, FenceOption.fenceOption)
	if err != nil {
		return nil, err
	}
	if policies == nil {
		return nil, errors.New("geofence: NewFence: nil PolicySource")
	}
	headers := c.headers
	if headers == nil {
		headers = slices.Clone(DefaultCountryHeaders) // a later change of the variable changes no fence
	}
	return &Fence{policies: policies, trust: c.trust, headers: headers, db: c.db, obs: c.observer}, nil
}

// Middleware checks the request's company (zone.CompanyFromContext: put it
// after zone.DetectCompany) against its policy. A request without a
// company, or of a company without a policy, passes. The client's country,
// when known, goes into the context (CountryFromContext) and on the access
// log line ("client_country", which tracing makes a span attribute); the
// client's address never does. A nil Fence answers every request 500
// internal_error.
func (f *Fence) Middleware(next http.Handler) http.Handler {
	if f == nil { // a constructor's error ignored: refuse, never serve unchecked
		return edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("geofence: Middleware of a nil Fence (did NewFence fail?)")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var country Country
		named := false // a trusted hop named the country (perhaps as unknown)
		if f.trust(r) {
			country, named = f.headerCountry(r.Header)
			f.settle(r.Header, country)
		} else {
			f.strip(r.Header)
		}
		ctx := r.Context()
		company := zone.CompanyFromContext(ctx)
		if company == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := f.policies.Policy(ctx, company)
		region := regionOf(r)
		if err != nil {
			f.observe(r, region, DecisionPolicyUnavailable)
			w.Header().Set("Retry-After", "5")
			edge.WriteProblem(w, r, ErrLocationPolicyUnavailable.WithCause(fmt.Errorf("geofence: policy of company %s: %w", company, err)))
			return
		}
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		addr, _ := edge.ClientAddr(r, f.trust)
		if !named && f.db != nil {
			country = f.db.Country(addr)
		}
		if country.Known() {
			edge.AddLogAttrs(ctx, slog.String("client_country", country.String()))
		}
		if !p.Admits(addr, country) {
			f.observe(r, region, DecisionLocationDenied)
			edge.WriteProblem(w, r, ErrLocationDenied)
			return
		}
		f.observe(r, region, DecisionAllowed)
		if country.Known() {
			r = countryKey.Attach(r, country.String())
		}
		next.ServeHTTP(w, r)
	})
}

// Locate returns the address and country of r's client as Middleware
// finds them: the country from a trusted hop's header, else from the
// database, else unknown. It reads r only.
func (f *Fence) Locate(r *http.Request) (netip.Addr, Country) {
	addr, _ := edge.ClientAddr(r, f.trust)
	var country Country
	named := false
	if f.trust(r) {
		country, named = f.headerCountry(r.Header)
	}
	if !named && f.db != nil {
		country = f.db.Country(addr)
	}
	return addr, country
}

func (f *Fence) observe(r *http.Request, region Region, decision string) {
	if f.obs != nil {
		f.obs.GeofenceDecision(r.Context(), string(region), decision)
	}
}

// regionOf is the region of the zone serving r, when a Residency put it
// in the context.
func regionOf(r *http.Request) Region {
	region, _ := RegionFromContext(r.Context())
	return region
}

// headerCountry reads the country a trusted hop named, and whether it
// named one at all. The country is unknown when two values (of one header,
// two spellings or two headers) disagree, or when a value is no country
// code ("XX", "T1"): then the hop did name it, as unknown, and no database
// overrules it (a Tor exit has a country in the database, too).
func (f *Fence) headerCountry(h http.Header) (c Country, named bool) {
	for k, vs := range h {
		if !f.isCountryHeader(k) {
			continue
		}
		for _, v := range vs {
			got := ParseCountry(v)
			if !got.Known() || named && got != c {
				return Country{}, true
			}
			c, named = got, true
		}
	}
	return c, named
}

// settle leaves a trusted hop's country headers as one reader would read
// them all: when they came in more than one spelling or value (a client's
// own spelling that the hop passed on beside its own, say), or as a list,
// every spelling is deleted and, when the country is known, the canonical
// spelling of each header that was present carries it, so nothing further
// in (a cell that folds names as CGI does) reads another country than the
// one decided here.
func (f *Fence) settle(h http.Header, country Country) {
	fields, list := 0, false
	for k, vs := range h {
		if f.isCountryHeader(k) {
			fields += len(vs)
			for _, v := range vs {
				list = list || strings.Contains(v, ",")
			}
		}
	}
	if fields <= 1 && !list {
		return // the hop's one header, as it sent it: no allocation
	}
	var names []string // the canonical spelling of each header present
	for _, n := range f.headers {
		if _, spellings := edge.HeaderValues(h, n); spellings > 0 {
			names = append(names, http.CanonicalHeaderKey(n))
		}
	}
	f.strip(h)
	if country.Known() {
		for _, n := range names {
			h[n] = []string{country.String()}
		}
	}
}

// strip deletes every spelling of the country headers.
func (f *Fence) strip(h http.Header) {
	for k := range h {
		if f.isCountryHeader(k) {
			delete(h, k)
		}
	}
}

func (f *Fence) isCountryHeader(name string) bool {
	for _, n := range f.headers {
		if edge.SameHeaderName(name, n) {
			return true
		}
	}
	return false
}
