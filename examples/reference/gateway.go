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
	Passport []passport.Option
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
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
	if cfg.Trust == nil {
		cfg.Trust = edge.TrustNone
	}
	if cfg.Pages == nil {
		cfg.Pages = WebClients()
	}
	opts := append([]passport.Option{passport.WithPublic(isLogin), passport.WithCompanyless(isCompanyless),
		passport.WithForwardedBy(cfg.Trust)}, cfg.Passport...) // the router appends its client to X-Forwarded-For
	passports, err := passport.NewGateway(cfg.Zone, cfg.Directory, cfg.AuthURL, cfg.AuthTransport, opts...)
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
	pages = edge.SecurityHeaders(edge.WithCSP(csp))(pages) // CSP with a nonce, HSTS, nosniff, Referrer-Policy

	build := func(trust edge.Trust, public bool) http.Handler {
		health, _ := edge.NewHealth(nil) // no checks: cannot fail
		own := http.NewServeMux()
		own.Handle("GET /health", health.Live())
		own.Handle(PagesPrefix, pages)
		api := edge.Chain(
			// A company is optional here only so that the passport gateway
			// can answer: it refuses a missing company on every route but
			// the declared company-less ones, and another zone's company.
			zone.DetectCompany(zone.WithTrust(trust), zone.WithOptional()),
			passports.Middleware, // session → passport and the checked company, for this zone only
			clientScheme(trust),
		)(upstream)
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

		var span func(http.Handler) http.Handler
		if public {
			span = tracing.Middleware("gateway-"+cfg.Zone, tracing.Root())
		} else {
			span = tracing.Middleware("gateway-" + cfg.Zone)
		}
		trusted := edge.WithTrust(trust)
		return edge.Chain(
			span,
			edge.RequestID(trusted),
			edge.AccessLog(log),
			edge.Recover(log),
			edge.StripInternal(trusted),
			tracing.Route,
		)(mux)
	}
	return &Gateway{
		Public:    build(edge.TrustNone, true),
		Internal:  build(cfg.Trust, false),
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

func proxy(u Upstream, opts ...edge.Option) (*edge.Proxy, error) {
	if u.ResponseHeaderTimeout > 0 {
		opts = append(opts, edge.WithResponseHeaderTimeout(u.ResponseHeaderTimeout))
	}
	if u.Transport != nil {
		opts = append(opts, edge.WithTransport(tracing.Transport(u.Transport)))
	} else {
		opts = append(opts, edge.WithTransport(tracing.Transport(newTransport(u))))
	}
	return edge.ProxyTo(u.URL, opts...)
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
