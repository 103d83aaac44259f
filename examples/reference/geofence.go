package reference

import (
	"bytes"
	_ "embed"
	"errors"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// Regions are the regions of the reference topology's zones.
var Regions = map[string]geofence.Region{"us01": "us", "us02": "us", "uk01": "uk"}

// policiesJSON admits clients of company 4 from the UK only.
//
//go:embed policies.json
var policiesJSON []byte

// EmbeddedPolicies returns the examples' client location policies: company
// 4 admits clients in the UK (GB) only.
func EmbeddedPolicies() (*geofence.StaticPolicies, error) {
	return geofence.ReadStaticPolicies(bytes.NewReader(policiesJSON))
}

// GeofenceConfig is the geo-fencing of every service: residency, which
// each stage checks on its own, and the client location policies, which
// the public edges (the API host and the zones' web fronts) apply.
type GeofenceConfig struct {
	// Residency knows each zone's region; required.
	Residency *geofence.Residency
	// Policies are the companies' client location policies; none when nil.
	Policies geofence.PolicySource
	// Database locates clients that no trusted hop located; none when nil.
	Database *geofence.Database
	// Hops are the hops in front of the public edges (a CDN) whose
	// country header (CF-IPCountry, CloudFront-Viewer-Country) and
	// X-Forwarded-For are believed; edge.TrustNone when nil.
	Hops edge.Trust
	// Observer counts the decisions (tracing.Metrics); none when nil.
	Observer geofence.Observer
}

// check refuses a GeofenceConfig without its Residency.
func (g *GeofenceConfig) check() error {
	if g != nil && g.Residency == nil {
		return errors.New("reference: geofence: a Residency is required")
	}
	return nil
}

// directory is dir with each answer checked for residency, when g is set.
func (g *GeofenceConfig) directory(dir zone.Directory) zone.Directory {
	if g == nil {
		return dir
	}
	return g.Residency.Directory(dir)
}

// fence returns the location fence of a public edge, or nil without
// policies.
func (g *GeofenceConfig) fence() (*geofence.Fence, error) {
	if g == nil || g.Policies == nil {
		return nil, nil
	}
	opts := []geofence.FenceOption{}
	if g.Hops != nil {
		opts = append(opts, geofence.WithTrust(g.Hops))
	}
	if g.Database != nil {
		opts = append(opts, geofence.WithDatabase(g.Database))
	}
	if g.Observer != nil {
		opts = append(opts, geofence.WithObserver(g.Observer))
	}
	return geofence.NewFence(g.Policies, opts...)
}

// stages are the geofence middlewares of an edge, both nil when g is not
// set: residency checks the zone in the context (put it after the zone is
// resolved), location applies the client location policies (nil without
// policies, and behind the router, which applied them: public false).
func (g *GeofenceConfig) stages(public bool) (residency, location func(http.Handler) http.Handler, err error) {
	if g == nil {
		return nil, nil, nil
	}
	residency = g.Residency.Middleware
	if !public {
		return residency, nil, nil
	}
	f, err := g.fence()
	if err != nil || f == nil {
		return residency, nil, err
	}
	return residency, f.Middleware, nil
}

// chain is the non-nil of mws.
func chain(mws ...func(http.Handler) http.Handler) []func(http.Handler) http.Handler {
	out := mws[:0:0]
	for _, mw := range mws {
		if mw != nil {
			out = append(out, mw)
		}
	}
	return out
}

// transport guards rt, a hop to a gateway or backend of zone, with the
// residency check of the hop (geofence.Residency.Transport), when g is set
// and the zone has a region.
func (g *GeofenceConfig) transport(zoneName string, rt http.RoundTripper) (http.RoundTripper, error) {
	if g == nil {
		return rt, nil
	}
	region, ok := g.Residency.Region(zoneName)
	if !ok {
		return rt, nil
	}
	if rt == nil {
		rt = edge.NewTransport()
	}
	return g.Residency.Transport(region, rt)
}
