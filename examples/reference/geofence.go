package reference

import (
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
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
	// Observer counts the decisions (tracing.Instruments); none when nil.
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

// Geofencing returns the examples' geo-fencing: the zones' Regions, the
// embedded policies (company 4: the UK only), the hops in front whose
// country header is believed (CIDRs, none when empty), and the MaxMind
// database at geoipDB (none when ""), watched for changes until stop is
// called. obs, when not nil, counts the decisions.
func Geofencing(hops []string, geoipDB string, obs geofence.Observer, log *slog.Logger) (_ *GeofenceConfig, stop func(), err error) {
	var resOpts []geofence.ResidencyOption
	var dbOpts []geofence.DatabaseOption
	if obs != nil {
		resOpts = append(resOpts, geofence.WithObserver(obs))
		dbOpts = append(dbOpts, geofence.WithObserver(obs))
	}
	if log != nil {
		dbOpts = append(dbOpts, geofence.WithLogger(log))
	}
	res, err := geofence.NewResidency(Regions, resOpts...)
	if err != nil {
		return nil, nil, err
	}
	policies, err := EmbeddedPolicies()
	if err != nil {
		return nil, nil, err
	}
	geo := &GeofenceConfig{Residency: res, Policies: policies, Observer: obs}
	if len(hops) > 0 {
		if geo.Hops, err = edge.TrustNetworks(hops...); err != nil {
			return nil, nil, fmt.Errorf("reference: trusted hops: %w", err)
		}
	}
	stop = func() {}
	if geoipDB != "" {
		if geo.Database, err = geofence.OpenDatabase(geoipDB, dbOpts...); err != nil {
			return nil, nil, err
		}
		stop = geo.Database.Watch()
	}
	return geo, stop, nil
}

// GeofenceFlags registers -trusted-hops and -geoip-db on the command line
// of a public edge (cell router, gateway); call the function it returns
// after flag.Parse for the geo-fencing (Geofencing) they configure.
func GeofenceFlags() func() (*GeofenceConfig, func(), error) {
	hops := flag.String("trusted-hops", Env("CELLGATE_TRUSTED_HOPS", ""), "comma-separated CIDRs of hops in front (a CDN) whose CF-IPCountry and X-Forwarded-For are believed; empty: none ($CELLGATE_TRUSTED_HOPS)")
	db := flag.String("geoip-db", Env("CELLGATE_GEOIP_DB", ""), "MaxMind country database locating clients that no trusted hop located, reloaded when it changes; empty: none ($CELLGATE_GEOIP_DB)")
	return func() (*GeofenceConfig, func(), error) {
		return Geofencing(ListFlag(*hops), *db, nil, nil)
	}
}

// forwardedBy returns the hops whose X-Forwarded-For the public edge's
// StripInternal keeps, so that the fence reads the client's address behind
// them; nil (none) without geofencing.
func (g *GeofenceConfig) forwardedBy() edge.Trust {
	if g == nil {
		return nil
	}
	return g.Hops
}
