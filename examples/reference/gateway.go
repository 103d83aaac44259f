package reference

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/cache"
	"github.com/cellgate/cellgate/zone/experiment"
)

// PagesPrefix is where a gateway serves the single-page app.
const PagesPrefix = "/webclients/"

// Upstream is a service behind a gateway: its base URL and how to reach it.
type Upstream struct {
	// URL is the absolute http(s) base URL.
	URL string
	// Transport reaches it: edge.Binding(h) in one process,
	// edge.NewTransport() when nil.
	Transport http.RoundTripper
	// ResponseHeaderTimeout bounds the wait for its response header (504
	// upstream_timeout after it); edge.DefaultResponseHeaderTimeout when
	// zero.
	ResponseHeaderTimeout time.Duration
}

// GatewayConfig configures the gateway of one zone.
type GatewayConfig struct {
	// Zone is the gateway's zone, such as "us01"; required.
	Zone string
	// Directory places the company a request names: the passport gateway
	// refuses a company of another zone (421 zone_misdirected); required.
	Directory zone.Directory
	// AuthURL and AuthTransport reach the authentication service that
	// mints passports: edge.Binding(auth) in one process, a transport
	// signing with the auth key (hmacsig.Transport) across processes.
	AuthURL       string
	AuthTransport http.RoundTripper
	// Cell is the zone's cell, also the legacy backend of the strangler;
	// required.
	Cell Upstream
	// Replace lists the ServeMux patterns that the strangler sends to
	// Replacement instead of Cell (see Strangler).
	Replace     []string
	Replacement Upstream
	// Coalesce lists the ServeMux patterns (such as "GET
	// /rest/v1.0/projects/{projectId}/summary") whose identical concurrent
	// GETs share one call to the upstream (zone/cache.Coalescer). It sits
	// after the passport gateway, so the company and the principal are in
	// the key: a response reaches another session only when the cell
	// marked it shareable, never another company.
	Coalesce []string
	// CoalesceOptions holds further options of that Coalescer
	// (cache.WithObserver, …).
	CoalesceOptions []cache.CoalescerOption
	// Trust marks the router's hop for Internal: its Cellgate-* headers and
	// request ID are believed. TrustNone when nil.
	Trust edge.Trust
	// Pages is the single-page app served under PagesPrefix; WebClients()
	// when nil.
	Pages fs.FS
	// API is the API host the pages call (.API of the index template).
	API APIBase
	// ConnectSrc are the origins the pages may fetch from besides their
	// own (CSP connect-src): the API hosts and the storage host.
	ConnectSrc []string
	// Passport holds further options of the passport gateway
	// (passport.WithCacheTTL, …).
	Passport []passport.GatewayOption
	// Experiments, when set, run on the web client route (Public, the
	// zone's own host): behind the passport gateway, its middleware hands
	// the passport's variants to later stages and counts exposures. The
	// authentication service must assign from the same experiments
	// (AssignVariants).
	Experiments *experiment.Set
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
	// Geofence, when set, refuses companies outside the zone's region
	// before a passport is asked for, guards the hops to the cell and the
	// replacement backend, and applies the client location policies on the
	// zone's own host (behind the router, the router applied them).
	Geofence *GeofenceConfig
}

// Gateway is the gateway of one zone. It swaps the client's session for a
// passport (passport.Gateway), serves the pages, and forwards to the cell
// or, for the strangled routes, to the replacement backend.
type Gateway struct {
	// Public serves the zone's own host: a public edge that trusts nothing
	// inbound and starts a new trace.
	Public http.Handler
	// Internal serves the router: it believes the Cellgate-* headers of
	// requests that Trust admits and continues the router's trace.
	Internal http.Handler

	passports *passport.Gateway
}

// Revoked drops the passports cached for what rev revokes; subscribe it to
// the session store (passport.Store.Subscribe).
func (g *Gateway) Revoked(rev passport.Revocation) { g.passports.Revoked(rev) }

// Watch subscribes the gateway's passport cache to store's revocations and
// trusts the cache only while store's notice path is fresh
// (passport.Gateway.Watch): a gateway cut off from a Redis store's notices
// asks the authentication service for every request after the notice bound
// (one second), or refuses.
func (g *Gateway) Watch(store passport.Store) (cancel func()) { return g.passports.Watch(store) }

// NewGateway returns the gateway of cfg.Zone.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	if cfg.Directory == nil || cfg.Cell.URL == "" {
		return nil, errors.New("reference: gateway: a directory and a cell are required")
	}
	if err := cfg.Geofence.check(); err != nil {
		return nil, err
	}
	cfg.Directory = cfg.Geofence.directory(cfg.Directory)
	if cfg.Trust == nil {
		cfg.Trust = edge.TrustNone
	}
	if cfg.Pages == nil {
		cfg.Pages = WebClients()
	}
	opts := append([]passport.GatewayOption{passport.WithPublic(isLogin), passport.WithCompanyless(isCompanyless),
		passport.WithForwardedBy(cfg.Trust)}, cfg.Passport...) // the router appends its client to X-Forwarded-For
	passports, err := passport.NewGateway(cfg.Zone, cfg.Directory, passport.Endpoint{URL: cfg.AuthURL, Transport: cfg.AuthTransport}, opts...)
	if err != nil {
		return nil, err
	}
	log := edge.WithLogger(logger(cfg.Logger, "gateway-"+cfg.Zone))
	// The cell learns the scheme the client used (its session cookie is
	// Secure over TLS) although the hop into the gateway may be plain.
	if cfg.Cell.Transport == nil {
		cfg.Cell.Transport = newTransport(cfg.Cell)
	}
	cfg.Cell.Transport = schemeTransport{base: cfg.Cell.Transport}
	// Neither the cell nor the strangler's replacement backend may be in
	// another region than the zone's.
	if cfg.Cell.Transport, err = cfg.Geofence.transport(cfg.Zone, cfg.Cell.Transport); err != nil {
		return nil, err
	}
	if len(cfg.Replace) > 0 {
		if cfg.Replacement.Transport, err = cfg.Geofence.transport(cfg.Zone, cfg.Replacement.Transport); err != nil {
			return nil, err
		}
	}
	cell, err := proxy(cfg.Cell, log)
	if err != nil {
		return nil, fmt.Errorf("reference: gateway %s: cell: %w", cfg.Zone, err)
	}
	var replacement http.Handler
	if len(cfg.Replace) > 0 {
		if replacement, err = proxy(cfg.Replacement, log); err != nil {
			return nil, fmt.Errorf("reference: gateway %s: replacement: %w", cfg.Zone, err)
		}
	}
	upstream, err := Strangler(cfg.Replace, cell, replacement)
	if err != nil {
		return nil, err
	}
	if len(cfg.Coalesce) > 0 {
		co, err := cache.NewCoalescer(cfg.CoalesceOptions...)
		if err != nil {
			return nil, fmt.Errorf("reference: gateway %s: %w", cfg.Zone, err)
		}
		if upstream, err = Strangler(cfg.Coalesce, upstream, co.Middleware(upstream)); err != nil {
			return nil, fmt.Errorf("reference: gateway %s: coalesce: %w", cfg.Zone, err)
		}
	}
	pages, err := Pages(PagesPrefix, cfg.Pages, cfg.Zone, cfg.API)
	if err != nil {
		return nil, err
	}
	csp, err := pagesCSP(cfg.ConnectSrc)
	if err != nil {
		return nil, fmt.Errorf("reference: gateway %s: %w", cfg.Zone, err)
	}
	secure, err := edge.SecurityHeaders(edge.WithCSP(csp)) // CSP with a nonce, HSTS, nosniff, Referrer-Policy
	if err != nil {
		return nil, fmt.Errorf("reference: gateway %s: %w", cfg.Zone, err)
	}
	pages = secure(pages)

	residency, location, err := cfg.Geofence.stages(true)
	if err != nil {
		return nil, err
	}
	build := func(trust edge.Trust, public bool) (http.Handler, error) {
		fence := location
		if !public {
			fence = nil // behind the router, which applied the policies
		}
		// A company is optional here only so that the passport gateway
		// can answer: it refuses a missing company on every route but
		// the declared company-less ones, and another zone's company.
		detect, err := zone.DetectCompany(zone.WithTrust(trust), zone.WithOptional())
		if err != nil {
			return nil, err
		}
		health, _ := edge.NewHealth(nil) // no checks: cannot fail
		own := http.NewServeMux()
		own.Handle("GET /health", health.Live())
		own.Handle(PagesPrefix, pages)
		stages := chain(
			detect,
			fence,                // client location, before any passport is asked for
			passports.Middleware, // session → passport and the checked company, for this zone only
			residency,            // the region of the zone the passport gateway put in the context
		)
		if public && cfg.Experiments != nil {
			stages = append(stages, cfg.Experiments.Middleware) // the web client route's exposures
		}
		api := edge.Chain(append(stages, clientScheme(trust))...)(upstream)
		// The gateway's own routes, and everything else to the cell: a
		// ServeMux "/" catch-all would cost ~9 allocations per API request
		// (it matches twice, the second time for a trailing-slash redirect).
		mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := r.URL.Path; p == "/health" || strings.HasPrefix(p, PagesPrefix) || p == PagesPrefix[:len(PagesPrefix)-1] {
				own.ServeHTTP(w, r)
				return
			}
			api.ServeHTTP(w, r)
		})

		var spanOpts []tracing.MiddlewareOption
		if public {
			spanOpts = append(spanOpts, tracing.Root(), tracing.WithTrust(cfg.Geofence.forwardedBy()))
		}
		trusted := edge.WithTrust(trust)
		var forwardedBy edge.Trust // the public host keeps the CDN's X-Forwarded-For for the fence
		if public {
			forwardedBy = cfg.Geofence.forwardedBy()
		}
		var l links
		outer := edge.Chain(
			l.add(tracing.Middleware("gateway-"+cfg.Zone, spanOpts...)),
			l.add(edge.RequestID(trusted)),
			l.add(edge.AccessLog(log)),
			l.add(edge.Recover(log)),
			l.add(edge.StripInternal(trusted, edge.WithForwardedBy(forwardedBy))),
			tracing.Route,
		)
		if l.err != nil {
			return nil, fmt.Errorf("reference: gateway %s: %w", cfg.Zone, l.err)
		}
		return outer(mux), nil
	}
	public, err := build(edge.TrustNone, true)
	if err != nil {
		return nil, err
	}
	internal, err := build(cfg.Trust, false)
	if err != nil {
		return nil, err
	}
	return &Gateway{
		Public:    public,
		Internal:  internal,
		passports: passports,
	}, nil
}

// isLogin matches the sign-in route, which needs no session.
func isLogin(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/login" }

// isCompanyless matches the routes of a zone's own host that name no
// company: who am I. Their passports carry no company_id, and the session
// must have a company in the zone to get one.
func isCompanyless(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.Path == "/rest/v1.0/me"
}

// pagesCSP is edge.DefaultCSP with connect-src widened to origins, each an
// http(s) origin such as "http://127.0.0.1:8080".
func pagesCSP(origins []string) (string, error) {
	if len(origins) == 0 {
		return edge.DefaultCSP, nil
	}
	src := "'self'"
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
			strings.ContainsAny(o, " ;,'") {
			return "", fmt.Errorf("connect-src: %q is not an http(s) origin", o)
		}
		src += " " + o
	}
	return edge.DefaultCSP + "; connect-src " + src, nil
}

var schemeKey = edge.NewKey[string]("reference.client_scheme")

// clientScheme records "https" when the client reached the edge over TLS:
// the request came over TLS, or a trusted hop (the router) says so.
func clientScheme(trust edge.Trust) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.TLS != nil || trust(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
				r = schemeKey.Attach(r, "https")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// schemeTransport sends X-Forwarded-Proto: https to the cell when
// clientScheme recorded it; the reverse proxy names only its own inbound
// hop, which behind the router is a plain binding.
type schemeTransport struct{ base http.RoundTripper }

func (t schemeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if schemeKey.Value(req.Context()) == "https" {
		req = req.Clone(req.Context())
		req.Header.Set("X-Forwarded-Proto", "https")
	}
	return t.base.RoundTrip(req)
}

// Unwrap returns the base transport (see edge.WithTransport).
func (t schemeTransport) Unwrap() http.RoundTripper { return t.base }

func proxy(u Upstream, opts ...edge.ProxyOption) (*edge.Proxy, error) {
	// Zero is the default: edge.DefaultResponseHeaderTimeout.
	opts = append(opts, edge.WithResponseHeaderTimeout(u.ResponseHeaderTimeout))
	base := u.Transport
	if base == nil {
		base = newTransport(u)
	}
	out, err := tracing.Transport(base)
	if err != nil {
		return nil, err
	}
	return edge.ProxyTo(u.URL, append(opts, edge.WithTransport(out))...)
}

// newTransport is edge.NewTransport giving up on u's response header
// itself, after the proxy's timeout: the proxy then needs no timer per
// request (see edge.WithTransport).
func newTransport(u Upstream) *http.Transport {
	t := edge.NewTransport()
	t.ResponseHeaderTimeout = edge.DefaultResponseHeaderTimeout
	if u.ResponseHeaderTimeout > 0 {
		t.ResponseHeaderTimeout = u.ResponseHeaderTimeout
	}
	return t
}
