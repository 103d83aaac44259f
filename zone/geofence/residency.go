package geofence

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Residency knows the region of every zone, fixed by the operator, and
// refuses to let a company be served by a zone outside the company's
// residency region (zone.Zone.Residency, from the directory):
//
//   - Directory wraps the zone directory of each stage, so the router's
//     zone.Resolve, a gateway's passport check and the authentication
//     service's check before minting all refuse such an entry with a 503
//     residency_mismatch (defence in depth: each stage checks on its own).
//   - Middleware checks the zone in the request's context, wherever it came
//     from, just before the stage forwards (the router: after zone.Resolve).
//   - Transport guards the hop to a gateway or backend of one region, so an
//     alternate gateway (a canary) or a replacement backend (a strangler)
//     in another region never sees the company's requests.
//
// There is no fallback: a mismatch is refused, never sent to another
// region. A company without residency may be served by any zone; a company
// with residency in a zone whose region is not configured is refused.
type Residency struct {
	zones map[string]Region
	obs   Observer
}

// NewResidency returns the residency check for zones, mapping each zone
// name to its region (the map is copied). Options: WithObserver.
func NewResidency(zones map[string]Region, opts ...ResidencyOption) (*Residency, error) {
	c, err := newConfig("NewResidency", opts, ResidencyOption.residencyOption)
	if err != nil {
		return nil, err
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("geofence: NewResidency: no zone")
	}
	r := &Residency{zones: make(map[string]Region, len(zones)), obs: c.observer}
	for name, region := range zones {
		if !zone.ValidZoneName(name) {
			return nil, fmt.Errorf("geofence: NewResidency: invalid zone name %q", name)
		}
		if !validRegion(region) {
			return nil, fmt.Errorf("geofence: NewResidency: zone %s: invalid region %q", name, region)
		}
		r.zones[name] = region
	}
	return r, nil
}

// Region returns the region of the zone called name, and whether it has one.
func (r *Residency) Region(name string) (Region, bool) {
	region, ok := r.zones[name]
	return region, ok
}

// Check returns nil when the company that the directory placed in z may be
// served by z's zone, or ErrResidencyMismatch (with a cause for the log
// naming the zone and both regions) when it may not.
func (r *Residency) Check(z zone.Zone) error {
	_, err := r.check(z)
	return err
}

func (r *Residency) check(z zone.Zone) (Region, error) {
	region, ok := r.zones[z.Name]
	if z.Residency == "" || ok && string(region) == z.Residency {
		return region, nil
	}
	if !ok {
		return "", ErrResidencyMismatch.WithCause(fmt.Errorf("geofence: zone %s has no region; the company's data must stay in %s", z.Name, z.Residency))
	}
	return region, ErrResidencyMismatch.WithCause(fmt.Errorf("geofence: zone %s is in region %s; the company's data must stay in %s", z.Name, region, z.Residency))
}

// observe tells the observer of a refusal. Passing checks are not
// counted: every stage checks every request, so they would only count
// requests (which otelhttp does) several times over.
func (r *Residency) observe(ctx context.Context, z zone.Zone, err error) {
	if r.obs != nil && err != nil {
		r.obs.GeofenceDecision(ctx, z.Residency, DecisionResidencyMismatch)
	}
}

// Directory returns dir with every answer checked: Lookup returns the zone
// of a company only when Check allows it, and otherwise an error wrapping
// ErrResidencyMismatch, which zone.Resolve, the passport gateway and the
// authentication service answer as it is (503 residency_mismatch). Wrap
// the caching directory, not the directory it caches, so that every
// lookup is checked.
func (r *Residency) Directory(dir zone.Directory) zone.Directory {
	return residencyDirectory{r: r, dir: dir}
}

type residencyDirectory struct {
	r   *Residency
	dir zone.Directory
}

// Lookup implements zone.Directory.
func (d residencyDirectory) Lookup(ctx context.Context, company string) (zone.Zone, error) {
	z, err := d.dir.Lookup(ctx, company)
	if err != nil {
		return z, err
	}
	_, err = d.r.check(z)
	d.r.observe(ctx, z, err)
	if err != nil {
		return zone.Zone{}, fmt.Errorf("geofence: company %s: %w", company, err)
	}
	return z, nil
}

// Middleware checks the zone of the request (zone.ZoneFromContext, put
// there by zone.Resolve or a passport gateway) before next sees it: a
// mismatch is a 503 residency_mismatch. A request without a zone passes
// (a company-less route); put the middleware after the stage's resolution.
// It puts the zone's region in the context (RegionFromContext) and on the
// access log line ("region", which tracing makes a span attribute). A nil
// Residency answers every request 500 internal_error.
func (r *Residency) Middleware(next http.Handler) http.Handler {
	if r == nil { // a constructor's error ignored: refuse, never serve unchecked
		return edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("geofence: Middleware of a nil Residency (did NewResidency fail?)")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		z, ok := zone.ZoneFromContext(ctx)
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		region, err := r.check(z)
		r.observe(ctx, z, err)
		if err != nil {
			edge.WriteProblem(w, req, err)
			return
		}
		if region != "" {
			edge.AddLogAttrs(ctx, slog.String("region", string(region)))
			req = regionKey.Attach(req, region)
		}
		next.ServeHTTP(w, req)
	})
}
