package geofence

import (
	"context"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Region names a residency region, such as "uk" or "us", in the form of a
// zone name (zone.ValidZoneName).
type Region string

// Problems this package answers with. Tests and clients branch on the code;
// no detail says anything about a company's policy or region.
var (
	// ErrResidencyMismatch: the company's data must stay in a region other
	// than the zone's that was about to serve it (a poisoned or mistaken
	// directory entry, or a route to a zone of another region). It fails
	// closed: no other region is tried.
	ErrResidencyMismatch = edge.NewProblem(http.StatusServiceUnavailable, "residency_mismatch",
		"The company cannot be served from here. Please contact support.")
	// ErrLocationDenied: the company does not admit clients from where
	// this request came from.
	ErrLocationDenied = edge.NewProblem(http.StatusForbidden, "location_denied",
		"Access is not available from your location.")
	// ErrLocationPolicyUnavailable: the company's location policy could
	// not be read; the request is refused rather than let through.
	ErrLocationPolicyUnavailable = edge.NewProblem(http.StatusServiceUnavailable, "location_policy_unavailable",
		"Access cannot be checked right now. Please retry later.")
	// ErrUploadOutOfRegion: the storage target of an upload is not in the
	// region of the company's zone; not a byte was sent.
	ErrUploadOutOfRegion = edge.NewProblem(http.StatusBadGateway, "upload_out_of_region",
		"The upload cannot be stored right now. Please contact support.")
)

// Decisions an Observer is told of. With the region, they are the only
// attributes of the decision metric: never a company, an address or a
// country.
const (
	DecisionAllowed           = "allowed"            // a location policy admitted the client
	DecisionResidencyMismatch = "residency_mismatch" // ErrResidencyMismatch
	DecisionLocationDenied    = "location_denied"    // ErrLocationDenied
	DecisionPolicyUnavailable = "policy_unavailable" // ErrLocationPolicyUnavailable
	DecisionUploadAllowed     = "upload_allowed"     // a storage target in region
	DecisionUploadOutOfRegion = "upload_out_of_region"
	DecisionDatabaseReloaded  = "database_reloaded" // a MaxMind database replaced the old one
	DecisionDatabaseRefused   = "database_refused"  // a changed file failed to open or Verify; the old one is kept
)

// Observer is told every decision of this package, for metrics. Its method
// takes only standard types, so tracing.Instruments implements it without this
// package importing OpenTelemetry. It is called on the request path and
// must be fast and not block. region is "" where none applies (a company
// without residency).
type Observer interface {
	// GeofenceDecision is told one decision (a Decision constant) in
	// region.
	GeofenceDecision(ctx context.Context, region, decision string)
}

var (
	countryKey = edge.NewKey[string]("geofence.country")
	regionKey  = edge.NewKey[Region]("geofence.region")
)

// CountryFromContext returns the client's country as Fence found it (an
// ISO 3166-1 alpha-2 code such as "GB"), and whether one was found.
func CountryFromContext(ctx context.Context) (string, bool) {
	c, ok := countryKey.Lookup(ctx)
	return c, ok && c != ""
}

// ContextWithCountry returns a copy of ctx carrying the client's country,
// for tests and for work started outside a request.
func ContextWithCountry(ctx context.Context, country string) context.Context {
	return countryKey.With(ctx, country)
}

// RegionFromContext returns the region of the zone that serves the
// request, as Residency's middleware found it, and whether there is one.
func RegionFromContext(ctx context.Context) (Region, bool) {
	r, ok := regionKey.Lookup(ctx)
	return r, ok && r != ""
}

// ContextWithRegion returns a copy of ctx carrying region, for tests and
// for work started outside a request.
func ContextWithRegion(ctx context.Context, region Region) context.Context {
	return regionKey.With(ctx, region)
}

// validRegion reports whether r has the form of a zone name.
func validRegion(r Region) bool { return zone.ValidZoneName(string(r)) }

// writeProblem is edge.WriteProblem; a variable so that nothing else in the
// package writes problems another way.
var writeProblem = edge.WriteProblem
