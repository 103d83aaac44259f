package passport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"
)

// Gateway is the per-zone middleware that swaps a client's session for a
// passport. It reads the session token (Authorization: Bearer, else the
// session cookie), removes it and every inbound copy of the passport header,
// and injects a passport for the request's company (zone.CompanyFromContext) and
// the gateway's zone. Passports come from a bounded per-session cache, else
// from the authentication service, one call per session and company however
// many requests wait for it.
//
// The cell receives the company and zone the gateway checked in the
// internal headers Cellgate-Company-Id and Cellgate-Zone, and the
// passport's experiment variants (WithVariants) in HeaderVariants; every
// inbound spelling of them is replaced, even without edge.StripInternal in
// front.
//
// A gateway never mints for a zone the session has no business in, whatever
// the chain in front of it did. It looks the request's company up in its
// directory itself: another zone's company is a 421 zone_misdirected, an
// unknown one a 404 company_unknown. A request that names no company is a
// 400 company_missing unless its route is declared company-less
// (WithCompanyless), and even then it gets a passport only when the session
// may act for a company of this zone. The authentication service checks the
// same again before it mints. Routes declared public (WithPublic, a sign-in
// page) pass without a passport instead of failing, except a request that
// asks to switch protocols (edge.IsUpgrade), refused 400 upgrade_refused
// without a passport: what follows a 101 is never checked.
//
// Revocation: Watch the store (or wire Store.Subscribe to Revoked) and a
// revoked session loses its cached passport as soon as the notice arrives.
// With Watch and a store whose notices cross processes (redisstore), the
// cache is trusted only while the notice path is proven alive within the
// store's bound (one second by default): a gateway cut off from the
// notices asks the authentication service for every request, or refuses,
// so a revocation on any replica is refused here within that bound. With
// Store.Subscribe alone, or without notices, a revoked session keeps being
// served from the cache for at most the cache TTL (WithCacheTTL, one minute
// by default) while notices do not arrive; a passport already handed to a
// cell stays valid until its exp.
// When the authentication service starts signing with another key, the
// whole cache is dropped, so a rotation never serves passports of a retired key.
type Gateway struct {
	zone        string
	dir         zone.Directory
	authURL     string
	rt          http.RoundTripper
	cookie      string
	header      string
	bearer      bool
	public      func(*http.Request) bool
	companyless func(*http.Request) bool
	missing     *edge.Problem // company_missing naming the public company header
	keepCookie  bool
	ttl         time.Duration
	timeout     time.Duration
	now         func() time.Time
	obs         Observer // nil: none
	budget      *tokenBudget

	mu     sync.Mutex
	cache  *simplelru.LRU[cacheKey, *entry]
	failed *simplelru.LRU[cacheKey, time.Time] // auth_unavailable, remembered for AuthBackoff
	kid    string                              // key id of the latest passport minted for us
	health []NoticeHealth                      // notice paths the cache relies on (Watch)
	gen    atomic.Uint64                       // bumped by every revocation, so a mint racing one is not cached
	calls  singleflight.Group
}

type cacheKey struct {
	session [sha256.Size]byte // TokenKey, never the token
	company string
}

type entry struct {
	value     string // the passport header's value
	sessionID string
	principal string // "session:" + sessionID, for edge.ContextWithPrincipal
	user      string
	variants  string // HeaderVariants' value, "" for none
	kid       string
	expires   time.Time
}

// Endpoint names a service in another process, or behind an edge.Binding,
// that this package calls: the authentication service of a Gateway, the
// storage service of a StoreClient. It has the shape of zone.Endpoint.
type Endpoint struct {
	// URL is the service's absolute http(s) URL: the authentication
	// service's passport endpoint, or the storage service's base URL (its
	// prefix included).
	URL string
	// Transport carries the calls: edge.Binding(service) in one process,
	// a transport that signs (hmacsig.Transport) across processes. A
	// Gateway takes nil as edge.NewTransport(); a StoreClient requires one.
	Transport http.RoundTripper
}

// NewGateway returns the gateway of zoneName, which checks every company
// against dir (a zone.CachingDirectory in front of the zone directory) and
// asks the authentication service auth for passports.
// Its options are the GatewayOptions: WithCookie, WithPassportHeader,
// WithCompanyHeader, WithoutCompanyHeader, WithPublic, WithCompanyless,
// WithCacheTTL, WithoutCache, WithCacheSize, WithKeepSessionCookie,
// WithTimeout, WithClock, WithObserver, WithFailureBudget and
// WithForwardedBy.
func NewGateway(zoneName string, dir zone.Directory, auth Endpoint, opts ...GatewayOption) (*Gateway, error) {
	c, err := newConfig("NewGateway", opts, GatewayOption.gatewayOption)
	if err != nil {
		return nil, err
	}
	u, perr := url.Parse(auth.URL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("passport: NewGateway: auth URL %q is not an absolute http(s) URL", auth.URL)
	}
	switch {
	case !zone.ValidZoneName(zoneName):
		return nil, fmt.Errorf("passport: NewGateway: invalid zone name %q", zoneName)
	case dir == nil:
		return nil, errors.New("passport: NewGateway: a zone directory is required")
	}
	rt := auth.Transport
	if rt == nil {
		rt = edge.NewTransport()
	}
	ttl := c.cacheTTL
	if c.noCache {
		ttl = 0
	}
	g := &Gateway{
		zone: zoneName, dir: dir, authURL: auth.URL, rt: edge.Outbound(rt),
		cookie: c.cookie, header: http.CanonicalHeaderKey(c.header), public: c.public, companyless: c.companyless,
		keepCookie: c.keepCookie, ttl: ttl, timeout: c.timeout, now: c.now,
		missing: companyMissing(c.companyHeader), obs: c.observer,
		budget: newTokenBudget(c.now, c.failureBudget, c.forwardedBy),
	}
	g.bearer = g.header == "Authorization"
	if g.cache, err = simplelru.NewLRU[cacheKey, *entry](c.maxEntries, nil); err != nil {
		return nil, fmt.Errorf("passport: gateway: %w", err)
	}
	if g.failed, err = simplelru.NewLRU[cacheKey, time.Time](maxAuthFailures, nil); err != nil {
		return nil, fmt.Errorf("passport: gateway: %w", err)
	}
	return g, nil
}

// AuthBackoff is how long a Gateway answers 502 auth_unavailable for a
// session and company, without asking again, after the authentication
// service failed for them: a failing service costs one call per session a
// second, not one per request.
const AuthBackoff = time.Second

// maxAuthFailures bounds the failures a Gateway remembers.
const maxAuthFailures = 10_000

var errRecentFailure = errors.New("passport: gateway: the authentication service failed for this session less than AuthBackoff ago")

// recentlyFailed reports whether the authentication service failed for key
// less than AuthBackoff ago.
func (g *Gateway) recentlyFailed(key cacheKey) bool {
	g.mu.Lock()
	until, ok := g.failed.Get(key)
	g.mu.Unlock()
	return ok && g.now().Before(until)
}

// failedFor remembers that the authentication service failed for key.
func (g *Gateway) failedFor(key cacheKey) {
	g.mu.Lock()
	g.failed.Add(key, g.now().Add(AuthBackoff))
	g.mu.Unlock()
}

// Middleware returns next behind the gateway. On a nil Gateway (NewGateway
// failed and its error went unchecked) it answers every request 500
// internal_error, never panics, and never lets one through.
func (g *Gateway) Middleware(next http.Handler) http.Handler {
	if g == nil {
		return edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("passport: Middleware of a nil Gateway (did NewGateway fail?)")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ambiguous := g.takeSession(r.Header)
		if ambiguous {
			edge.WriteProblem(w, r, ErrSessionAmbiguous)
			return
		}
		r, ok := g.admit(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		// The values of the headers set below, in one allocation:
		// company, zone, passport.
		vals := new([3]string)
		g.forwardCompany(ctx, r.Header, vals)
		edge.DeleteHeader(r.Header, HeaderVariants) // only what the passport says reaches the cell
		if token == "" {
			if g.public(r) {
				passPublic(next, w, r)
				return
			}
			edge.WriteProblem(w, r, ErrSessionMissing)
			return
		}
		e, err := g.passport(ctx, r, token, zone.CompanyFromContext(ctx))
		if err != nil {
			if g.public(r) {
				passPublic(next, w, r)
				return
			}
			var ex budgetExceeded
			if errors.As(err, &ex) {
				w.Header().Set("Retry-After", ex.retryAfter())
			}
			edge.WriteProblem(w, r, err)
			return
		}
		edge.AddLogAttrs(ctx, slog.String("session_id", e.sessionID), slog.String("user", e.user))
		vals[2] = e.value
		r.Header[g.header] = vals[2:3:3] // overwrite, never append (g.header is canonical)
		if e.variants != "" {
			r.Header[HeaderVariants] = []string{e.variants}
		}
		next.ServeHTTP(w, edge.RequestWithPrincipal(r, e.principal))
	})
}

// passPublic passes a request of a public route on without a passport,
// unless it asks to switch protocols (edge.IsUpgrade): whatever follows a
// 101 reaches the cell unchecked, so a switch needs a passport, whatever
// the proxy behind allows.
func passPublic(next http.Handler, w http.ResponseWriter, r *http.Request) {
	if edge.IsUpgrade(r) {
		edge.WriteProblem(w, r, edge.ErrUpgradeRefused)
		return
	}
	next.ServeHTTP(w, r)
}

// forwardCompany tells the cell which company and zone the gateway
// checked, in the internal headers (zone.HeaderCompany, zone.HeaderZone),
// replacing every spelling a client or an earlier hop sent: whatever the
// chain in front did, the cell reads what was checked here.
// vals holds the values, vals[0] the company's and vals[1] the zone's.
func (g *Gateway) forwardCompany(ctx context.Context, h http.Header, vals *[3]string) {
	edge.DeleteHeader(h, zone.HeaderCompany)
	edge.DeleteHeader(h, zone.HeaderZone)
	if c := zone.CompanyFromContext(ctx); c != "" {
		vals[0] = c
		h[zone.HeaderCompany] = vals[0:1:1]
	}
	vals[1] = g.zone
	h[zone.HeaderZone] = vals[1:2:2]
}

// admit checks that r may be served by this zone's gateway at all and
// returns it with the zone in its context (zone.ZoneFromContext), or answers r with a
// problem and returns false. The check is the gateway's own, from its
// directory: nothing in front of it (zone.Resolve, a trusted router) can
// switch it off.
func (g *Gateway) admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	ctx := r.Context()
	if z, ok := zone.ZoneFromContext(ctx); ok && z.Name != g.zone {
		edge.WriteProblem(w, r, ErrZoneMisdirected)
		return nil, false
	}
	company := zone.CompanyFromContext(ctx)
	if company == "" {
		if !g.companyless(r) && !g.public(r) {
			edge.WriteProblem(w, r, g.missing)
			return nil, false
		}
		if _, ok := zone.ZoneFromContext(ctx); ok {
			return r, true
		}
		return zone.RequestWithZone(r, zone.Zone{Name: g.zone}), true
	}
	z, err := g.dir.Lookup(ctx, company)
	if err != nil {
		zone.WriteLookupError(w, r, err)
		return nil, false
	}
	if z.Name != g.zone {
		edge.WriteProblem(w, r, ErrZoneMisdirected.WithCause(fmt.Errorf("passport: gateway %s: company %s is in zone %s", g.zone, company, z.Name)))
		return nil, false
	}
	edge.AddLogAttrs(ctx, slog.String("zone", z.Name))
	if had, ok := zone.ZoneFromContext(ctx); ok && had == z {
		return r, true // zone.Resolve put it there already
	}
	return zone.RequestWithZone(r, z), true
}

// Revoked drops the cached passports a revocation covers. Pass it to
// Store.Subscribe. A company revocation drops the whole cache: the cache
// does not know which other companies a session may act for; so does All.
func (g *Gateway) Revoked(rev Revocation) {
	g.observeRevocation(rev)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen.Add(1)
	if rev.Company != "" || rev.All {
		g.cache.Purge()
		return
	}
	for _, k := range g.cache.Keys() {
		if e, ok := g.cache.Peek(k); ok && rev.matches(e.sessionID, e.user, nil) {
			g.cache.Remove(k)
		}
	}
}

// Flush drops every cached passport.
func (g *Gateway) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gen.Add(1)
	g.cache.Purge()
}

// passport returns the cached passport of the session for company, or a
// fresh one. A token refused lately is refused again from memory, and a
// client out of its failure budget gets no call (see UnknownTokenTTL).
func (g *Gateway) passport(ctx context.Context, r *http.Request, token, company string) (*entry, error) {
	// Hash through a stack buffer: a plain []byte(token) conversion
	// allocates for tokens longer than 32 bytes.
	var buf [64]byte
	key := cacheKey{session: sha256.Sum256(append(buf[:0], token...)), company: company}
	e := g.cached(key)
	g.observeCache(ctx, e != nil)
	if e != nil {
		return e, nil
	}
	if err := g.budget.refusal(key.session); err != nil {
		return nil, err
	}
	if out, wait := g.budget.exhausted(r); out {
		return nil, budgetExceeded{wait}
	}
	if g.recentlyFailed(key) {
		return nil, ErrAuthUnavailable.WithCause(errRecentFailure)
	}
	e, err := g.fetch(ctx, key)
	if err != nil {
		g.budget.failed(r, key.session, err)
	}
	return e, err
}

// fetch gets a passport from the authentication service, one call per key
// however many requests wait for it.
func (g *Gateway) fetch(ctx context.Context, key cacheKey) (*entry, error) {
	// The flight is keyed by the revocation generation too: a request that
	// arrives after a revocation must not join a call started before it and
	// be handed the passport that call mints.
	gen := g.gen.Load()
	flight := hex.EncodeToString(key.session[:]) + "|" + key.company + "|" + strconv.FormatUint(gen, 10)
	ch := g.calls.DoChan(flight, func() (any, error) {
		// A call that ended between our miss and this one has filled the cache.
		if e := g.cached(key); e != nil {
			return e, nil
		}
		// The shared call outlives any one waiter: it runs on its own
		// deadline, keeping the first request's values (request ID).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		defer cancel()
		e, err := g.askObserved(ctx, key)
		if err != nil {
			if errors.Is(err, ErrAuthUnavailable) {
				g.failedFor(key)
			}
			return nil, err
		}
		g.keep(key, e, gen)
		return e, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*entry), nil
	case <-ctx.Done():
		return nil, edge.ErrClientClosed.WithCause(ctx.Err())
	}
}

// cached returns the fresh cache entry of key, or nil.
func (g *Gateway) cached(key cacheKey) *entry {
	now := g.now()
	g.mu.Lock()
	e, ok := g.cache.Get(key)
	ok = ok && g.noticesFresh() // else a revocation may not have reached us
	g.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e
	}
	return nil
}

// keep caches e unless a revocation happened since its call started.
func (g *Gateway) keep(key cacheKey, e *entry, gen uint64) {
	if g.ttl <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.kid != g.kid {
		// The service signs with another key now: nothing cached under the
		// old one may be served any more.
		g.kid = e.kid
		g.cache.Purge()
	}
	if g.gen.Load() != gen {
		return
	}
	g.cache.Add(key, e)
}

// ask calls the authentication service.
func (g *Gateway) ask(ctx context.Context, key cacheKey) (*entry, error) {
	body, _ := json.Marshal(authRequest{SessionKey: hex.EncodeToString(key.session[:]), CompanyID: key.company, Zone: g.zone})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.authURL, bytes.NewReader(body))
	if err != nil {
		return nil, ErrAuthUnavailable.WithCause(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.rt.RoundTrip(req)
	if err != nil {
		return nil, ErrAuthUnavailable.WithCause(fmt.Errorf("passport: gateway: call auth service: %w", err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSmallBody))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, refusal(resp)
	}
	var ar authResponse
	if err := decodeJSON(resp.Body, maxSmallBody, &ar); err != nil {
		return nil, ErrAuthUnavailable.WithCause(fmt.Errorf("passport: gateway: decode auth answer: %w", err))
	}
	if ar.Passport == "" || len(ar.Passport) > MaxPassportSize || !validKID(ar.KeyID) {
		return nil, ErrAuthUnavailable.WithCause(errors.New("passport: gateway: auth answer lacks a passport or key id"))
	}
	now := g.now()
	// Never cache past half the passport's remaining life: the cell must
	// receive it with time to spare.
	expires := now.Add(min(g.ttl, ar.ExpiresAt.Sub(now)/2))
	variants, err := formatVariants(ar.Variants)
	if err != nil {
		return nil, ErrAuthUnavailable.WithCause(fmt.Errorf("passport: gateway: auth answer: %w", err))
	}
	value := ar.Passport
	if g.bearer {
		value = "Bearer " + value
	}
	return &entry{value: value, sessionID: ar.SessionID, principal: "session:" + ar.SessionID, user: ar.User, variants: variants, kid: ar.KeyID, expires: expires}, nil
}

// refusal turns an error answer of the authentication service into the
// problem the client should see: its own refusals pass through, anything
// else means the service is not working.
func refusal(resp *http.Response) error {
	cause := fmt.Errorf("passport: gateway: auth service answered %d", resp.StatusCode)
	p, err := edge.ReadProblem(resp)
	if err != nil {
		return ErrAuthUnavailable.WithCause(cause)
	}
	if known, ok := refusals[p.Code()]; ok && known.Status() == p.Status() {
		return known
	}
	return ErrAuthUnavailable.WithCause(fmt.Errorf("%w: %s", cause, p.Code()))
}
