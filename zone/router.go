package zone

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// Endpoint says how the router reaches one zone's gateway: where it is
// (URL) and what carries requests to it (Transport). It is not the gateway
// itself; that is passport.Gateway, running behind the endpoint.
type Endpoint struct {
	// URL is the gateway's absolute http(s) base URL. When empty, requests
	// go through Transport to http://<zone>.gateway.internal, a label that
	// an in-process Transport never dials.
	URL string
	// Transport carries requests to the gateway: edge.Binding(h) for a
	// gateway in the same process. The default is edge.NewTransport().
	Transport http.RoundTripper
}

// Canary sends a share of one zone's companies to an alternate gateway. The
// choice hangs on the company id alone, so a company never flaps between
// the two gateways from one request to the next.
type Canary struct {
	// Endpoint is how the router reaches the alternate gateway.
	Endpoint Endpoint
	// Percent is the share of the zone's companies, 0 to 100, picked by a
	// stable hash of the company id.
	Percent float64
	// Flag, when set, names a boolean feature flag that decides instead,
	// evaluated by the FlagFunc of WithFlagEvaluator (featureflag.Evaluator
	// for OpenFeature); the hash's choice is its fallback.
	Flag string
}

// FlagFunc evaluates the boolean feature flag called flag for r, returning
// fallback when it cannot. featureflag.Evaluator returns one for an
// OpenFeature client.
type FlagFunc func(r *http.Request, flag string, fallback bool) bool

// Router forwards each request to the gateway of its zone, which Resolve
// put in the context. Gateways are fixed at construction: the
// router never builds a URL from directory data, so a directory answer
// naming any other zone is a 502 zone_unroutable, logged as a warning.
//
// The router deletes every inbound header with the internal prefix
// (Cellgate-, in any case, '_', '.' and every other symbol read as '-') and
// then sets Cellgate-Company-Id and Cellgate-Zone for the gateway.
type Router struct {
	routes map[string]*route
	flags  FlagFunc
	log    func() *slog.Logger
}

type route struct {
	main, canary http.Handler
	basisPoints  uint64 // canary share in 1/100 of a percent
	flag         string
}

// NewRouter returns a router to the gateways reached through endpoints,
// keyed by zone name. Options (RouterOption): WithCanary, WithFlagEvaluator,
// WithTrust (forwarded X-Forwarded-For chains of trusted hops are kept),
// WithLogger.
func NewRouter(endpoints map[string]Endpoint, opts ...RouterOption) (*Router, error) {
	c, err := newConfig("NewRouter", opts, RouterOption.routerOption)
	if err != nil {
		return nil, err
	}
	if len(endpoints) == 0 {
		return nil, errors.New("zone: router: no endpoints")
	}
	rt := &Router{routes: make(map[string]*route, len(endpoints)), flags: c.flags, log: c.log}
	for name, ep := range endpoints {
		main, err := newGatewayProxy(name, ep, c)
		if err != nil {
			return nil, err
		}
		rt.routes[name] = &route{main: main}
	}
	for name, cn := range c.canaries {
		r, ok := rt.routes[name]
		if !ok {
			return nil, fmt.Errorf("zone: router: canary for zone %q without a gateway", name)
		}
		if cn.Flag != "" && c.flags == nil {
			return nil, fmt.Errorf("zone: router: canary flag %q for zone %q needs WithFlagEvaluator", cn.Flag, name)
		}
		canary, err := newGatewayProxy(name, cn.Endpoint, c)
		if err != nil {
			return nil, fmt.Errorf("zone: router: canary: %w", err)
		}
		r.canary, r.basisPoints, r.flag = canary, uint64(cn.Percent*100+0.5), cn.Flag
	}
	return rt, nil
}

func newGatewayProxy(name string, ep Endpoint, c *config) (http.Handler, error) {
	if !ValidZoneName(name) {
		return nil, fmt.Errorf("zone: router: invalid zone name %q", name)
	}
	target := ep.URL
	if target == "" {
		if ep.Transport == nil {
			return nil, fmt.Errorf("zone: router: endpoint of zone %q needs a URL or a Transport", name)
		}
		target = "http://" + name + ".gateway.internal"
	}
	opts := []edge.ProxyOption{edge.WithTrust(c.trust)}
	if ep.Transport != nil {
		opts = append(opts, edge.WithTransport(ep.Transport))
	}
	if c.logger != nil {
		opts = append(opts, edge.WithLogger(c.logger))
	}
	p, err := edge.ProxyTo(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("zone: router: gateway for zone %q: %w", name, err)
	}
	return p, nil
}

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	z, ok := ZoneFromContext(ctx)
	if !ok {
		edge.WriteProblem(w, r, ErrZoneUnroutable.WithCause(errors.New("zone: router: no zone in context; put Resolve before the router")))
		return
	}
	company := CompanyFromContext(ctx)
	route := rt.routes[z.Name]
	if route == nil {
		rt.log().LogAttrs(ctx, slog.LevelWarn, "zone: directory named a zone without a gateway",
			slog.String("zone", z.Name), slog.String("company", company), slog.String("request_id", edge.RequestIDFromContext(ctx)))
		edge.WriteProblem(w, r, ErrZoneUnroutable.WithCause(fmt.Errorf("zone: router: no gateway for zone %q", z.Name)))
		return
	}
	next := route.main
	if route.canary != nil && rt.useCanary(r, route, company, z) {
		next = route.canary
		edge.AddLogAttrs(ctx, slog.Bool("canary", true))
	}
	setInternalHeaders(r.Header, company, z.Name)
	next.ServeHTTP(w, r)
}

func (rt *Router) useCanary(r *http.Request, route *route, company string, z Zone) bool {
	byHash := canaryBucket(z.Name, company) < route.basisPoints
	if route.flag == "" {
		return byHash
	}
	return rt.flags(r, route.flag, byHash)
}

// canaryBucket places a company in one of 10,000 buckets of a zone, by
// FNV-1a, which is stable across processes and releases.
func canaryBucket(zone, company string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(zone))
	h.Write([]byte{0})
	h.Write([]byte(company))
	return h.Sum64() % 10_000
}

// setInternalHeaders deletes every internal header of h and sets the
// company and zone for the gateway. The router is the request's last
// stage, and the proxy sends a clone: editing h in place costs no copy.
func setInternalHeaders(h http.Header, company, zone string) {
	for k := range h {
		if isInternalHeader(k) {
			delete(h, k)
		}
	}
	v := &[2]string{company, zone} // both values in one allocation
	if company != "" {
		h[HeaderCompany] = v[0:1:1]
	}
	h[HeaderZone] = v[1:2:2]
}

// isInternalHeader reports whether name starts with edge.DefaultInternalPrefix,
// compared as edge.StripInternal compares.
func isInternalHeader(name string) bool {
	return edge.HasHeaderNamePrefix(name, edge.DefaultInternalPrefix)
}

// ValidZoneName reports whether name is a zone name: a lower-case letter or
// digit followed by up to 31 lower-case letters, digits or '-'.
func ValidZoneName(name string) bool {
	if len(name) == 0 || len(name) > 32 || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
