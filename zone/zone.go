package zone

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/cellgate/cellgate/edge"
)

// Zone is the cell that holds a company: its name, which picks the gateway,
// and the web base URL that clients of the company should use.
type Zone struct {
	// Name is the zone's short name, such as "us01": a lower-case letter or
	// digit followed by up to 31 lower-case letters, digits or '-'.
	Name string `json:"zone"`
	// WebBaseURL is the absolute URL of the zone's web front, such as
	// "https://us01.example.com". It is shown to clients, never dialled.
	WebBaseURL string `json:"web_base_url"`
	// Residency, when set, is the region the company's data must stay in,
	// such as "uk", in the form of a zone name (ValidZoneName). It belongs
	// to the company, not to the zone: the zone's own region is fixed by
	// the operator (zone/geofence), which refuses to route, mint for or
	// serve the company from a zone of another region. Empty: the company
	// has no residency promise.
	Residency string `json:"residency,omitempty"`
}

// Directory maps a company to the zone that holds it.
type Directory interface {
	// Lookup returns the zone of company, or an error wrapping
	// ErrUnknownCompany when the directory has no such company. Any other
	// error means the directory could not answer.
	Lookup(ctx context.Context, company string) (Zone, error)
}

// ErrUnknownCompany is wrapped by every Directory error for a company that
// the directory does not hold.
var ErrUnknownCompany = errors.New("zone: unknown company")

// Internal headers that the router sets for a zone's gateway. They share
// edge.DefaultInternalPrefix, so edge.StripInternal removes forged copies,
// and they are believed only on a trusted hop.
const (
	HeaderCompany = "Cellgate-Company-Id"
	HeaderZone    = "Cellgate-Zone"
)

// Problems this package answers with. Tests and clients branch on the code.
var (
	// ErrCompanyMissing: no company was named where one is required. Its
	// detail names DefaultCompanyHeader; a constructor given another header with
	// WithCompanyHeader names that one instead, under the same code.
	ErrCompanyMissing = edge.NewProblem(http.StatusBadRequest, "company_missing", "Missing Procore-Company-Id header!")
	// ErrCompanyInvalid: the company id is not a valid id.
	ErrCompanyInvalid = edge.NewProblem(http.StatusBadRequest, "company_invalid", "The company id is not valid.")
	// ErrCompanyConflict: two sources named different companies.
	ErrCompanyConflict = edge.NewProblem(http.StatusBadRequest, "company_conflict", "The request names more than one company.")
	// ErrPathAmbiguous: the path could be read as naming another company
	// than the one checked (dot segments, encoded slashes, empty segments,
	// more than one companies segment); see DetectCompany.
	ErrPathAmbiguous = edge.NewProblem(http.StatusBadRequest, "path_ambiguous",
		"The path is ambiguous: dot segments, encoded slashes, empty segments and repeated company segments are refused.")
	// ErrCompanyUnknown: the directory holds no such company.
	ErrCompanyUnknown = edge.NewProblem(http.StatusNotFound, "company_unknown", "The company is not known.")
	// ErrDirectoryUnavailable: the zone directory could not answer and no
	// earlier answer was fresh enough to serve.
	ErrDirectoryUnavailable = edge.NewProblem(http.StatusServiceUnavailable, "zone_directory_unavailable",
		"The zone of the company cannot be resolved right now. Please retry later.")
	// ErrZoneUnroutable: the company's zone has no gateway here.
	ErrZoneUnroutable = edge.NewProblem(http.StatusBadGateway, "zone_unroutable", "The company's zone cannot be reached from here.")
)

var (
	companyKey = edge.NewKey[string]("zone.company")
	// zoneKey holds a *Zone that nobody modifies: Resolve attaches one
	// interned per zone (no copy boxed per request), ContextWithZone one of
	// its own.
	zoneKey = edge.NewKey[*Zone]("zone.zone")
)

// CompanyFromContext returns the company of the request whose context is ctx, as
// set by DetectCompany, or "" when there is none. The id passed the check
// DetectCompany was configured with (ValidCompanyID by default).
func CompanyFromContext(ctx context.Context) string { return companyKey.Value(ctx) }

// ContextWithCompany returns a copy of ctx carrying company id, for tests and for
// work started outside a request.
func ContextWithCompany(ctx context.Context, id string) context.Context {
	return companyKey.With(ctx, id)
}

// ZoneFromContext returns the zone of the request whose context is ctx, as set by
// Resolve (or a zone's passport gateway), and whether there is one.
func ZoneFromContext(ctx context.Context) (Zone, bool) {
	if p := zoneKey.Value(ctx); p != nil {
		return *p, true
	}
	return Zone{}, false
}

// ContextWithZone returns a copy of ctx carrying z, for tests and for work started
// outside a request.
func ContextWithZone(ctx context.Context, z Zone) context.Context {
	return &zoneContext{Context: ctx, z: z}
}

// RequestWithZone returns r carrying z for ZoneFromContext, as
// r.WithContext(ContextWithZone(r.Context(), z)) would, but for a request
// that a chain of middlewares hands on: like edge.Key.Attach, it usually
// stores z in the request's scope in place and returns r itself, without
// allocating (the caller's r then carries z too). Middlewares use it;
// tests and work outside a request use ContextWithZone.
func RequestWithZone(r *http.Request, z Zone) *http.Request {
	return zoneKey.Attach(r, intern(z))
}

// zoneContext is what context.WithValue(ctx, zoneKey, &z) would return, in
// one allocation instead of two.
type zoneContext struct {
	context.Context
	z Zone
}

// Value implements context.Context.
func (c *zoneContext) Value(key any) any {
	if key == any(zoneKey) {
		return &c.z
	}
	return c.Context.Value(key)
}

// interned holds one *Zone per zone that Resolve attached, copied on write:
// a request then carries a pointer to it rather than a copy of its zone
// boxed for the context. Zones are few; past maxInterned, Resolve attaches
// a copy of its own.
var (
	interned = func() (p atomic.Pointer[map[Zone]*Zone]) {
		p.Store(&map[Zone]*Zone{})
		return
	}()
	internMu sync.Mutex
)

const maxInterned = 1024

// intern returns the shared *Zone equal to z.
func intern(z Zone) *Zone {
	if p := (*interned.Load())[z]; p != nil {
		return p
	}
	internMu.Lock()
	defer internMu.Unlock()
	old := *interned.Load()
	if p := old[z]; p != nil {
		return p
	}
	p := new(Zone) // not &z: z would then escape on the fast path too
	*p = z
	if len(old) >= maxInterned {
		return p
	}
	m := make(map[Zone]*Zone, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[z] = p
	interned.Store(&m)
	return p
}
