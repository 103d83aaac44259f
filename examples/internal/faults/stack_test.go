package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/testport"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
)

// mode is what a fault injector does to the calls it sees.
type mode int32

const (
	healthy mode = iota
	refused      // the connection is refused
	hung         // the handler blocks until the test ends or the caller leaves
	fail500      // the handler answers 500
	garbage      // the handler answers 200 with a body that is no JSON
	slow         // the handler waits slowDelay, then answers normally
)

var modeNames = map[mode]string{healthy: "healthy", refused: "refused", hung: "hung", fail500: "500", garbage: "garbage", slow: "slow"}

func (m mode) String() string { return modeNames[m] }

// slowDelay is how long a slow peer takes, well under every timeout.
const slowDelay = 150 * time.Millisecond

// injector switches a peer between healthy and faulty, counting its calls.
type injector struct {
	mode    atomic.Int32
	calls   atomic.Int64 // calls that reached the handler (not refused ones)
	release chan struct{}
	refuse  string // a loopback address nothing listens on
	// gate, when set, holds every call that reaches the handler until it
	// is closed; then the call does what the mode says. Tests use it to
	// have every concurrent caller waiting before the call can end,
	// instead of hoping they all arrive within a delay.
	gate atomic.Pointer[chan struct{}]
}

// hold makes calls wait at the gate until the returned function opens it.
func (f *injector) hold() (open func()) {
	g := make(chan struct{})
	f.gate.Store(&g)
	return func() { f.gate.Store(nil); close(g) }
}

func newInjector(t *testing.T) *injector {
	// Held for the whole test: no other process can listen there and turn
	// a refusal into an answer.
	f := &injector{release: make(chan struct{}), refuse: testport.Refusing(t)}
	t.Cleanup(func() { close(f.release) })
	return f
}

func (f *injector) set(m mode) { f.mode.Store(int32(m)) }

// wrap injects the handler-level faults in front of h.
func (f *injector) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if g := f.gate.Load(); g != nil {
			select {
			case <-*g:
			case <-f.release:
				return
			case <-r.Context().Done():
				return
			}
		}
		switch mode(f.mode.Load()) {
		case hung:
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
			return
		case fail500:
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		case garbage:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<<<not json")
			return
		case slow:
			select {
			case <-time.After(slowDelay):
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// transport injects refusal: while refused, each call dials an address
// nothing listens on and fails as a refused connection does.
func (f *injector) transport(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if mode(f.mode.Load()) == refused {
			var d net.Dialer
			c, err := d.DialContext(r.Context(), "tcp", f.refuse)
			if err == nil {
				c.Close()
				err = errors.New("faults: the refusing address accepted")
			}
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, err
		}
		return base.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Timeouts of the stack. A case with a hung peer waits its timeout out,
// so they are short enough for the suite; and a healthy or slow
// (slowDelay) peer meets them on a loaded machine under -race, since they
// are there to prove a timeout fires, never to measure speed. All are
// scaled by testwait (CELLGATE_TEST_TIMEOUT_SCALE).
var (
	lookupTimeout = testwait.Scale(2 * time.Second) // directory call
	authTimeout   = testwait.Scale(2 * time.Second) // gateway → authentication
	headerTimeout = testwait.Scale(2 * time.Second) // gateway → cell response header, in the cases that hang the cell

	// hangTimeout is the timeout towards a peer a case does not put at
	// fault: it only catches a hang of the test itself.
	hangTimeout = testwait.Scale(30 * time.Second)
)

// stackConfig is what a case may change in newStack.
type stackConfig struct {
	lookupTimeout, authTimeout, headerTimeout time.Duration
}

// stackOption changes a stackConfig.
type stackOption func(*stackConfig)

// withHeaderTimeout sets the gateway's response header timeout towards the
// cell (default hangTimeout: only the cases that hang the cell set it
// short, so a slow cell on a loaded machine does not turn another case's
// 200 into a 504).
func withHeaderTimeout(d time.Duration) stackOption {
	return func(c *stackConfig) { c.headerTimeout = d }
}

// withLookupTimeout sets the caching directory's lookup timeout (default
// lookupTimeout).
func withLookupTimeout(d time.Duration) stackOption {
	return func(c *stackConfig) { c.lookupTimeout = d }
}

// stack is the reference topology for one zone, in process: cell router →
// gateway us01 → cell, the gateway minting passports at the authentication
// service, everything placed by a caching directory over an HTTP directory
// service. Directory, authentication and cell sit behind injectors.
type stack struct {
	t     *testing.T
	clock *fakeclock.Clock
	dir   *injector
	auth  *injector
	cell  *injector
	cache *zone.CachingDirectory
	front *httptest.Server // the cell router, over TCP
	// router is the cell router's handler, which front serves.
	router http.Handler
	// cellHandler is what the healthy cell does; tests replace it.
	cellHandler atomic.Pointer[http.Handler]
	cookie      string
	client      *http.Client
	cellTr      *http.Transport
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	cfg := stackConfig{lookupTimeout: lookupTimeout, authTimeout: authTimeout, headerTimeout: hangTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	s := &stack{t: t, clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	s.dir, s.auth, s.cell = newInjector(t), newInjector(t), newInjector(t)

	// The directory service: every company is in us01.
	dirSrv := httptest.NewServer(s.dir.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteJSON(w, http.StatusOK, zone.Zone{Name: "us01", WebBaseURL: "https://us01.example.com"})
	})))
	t.Cleanup(dirSrv.Close)
	dirTr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(dirTr.CloseIdleConnections)
	httpDir, err := zone.NewHTTPDirectory(dirSrv.URL, zone.WithTransport(s.dir.transport(dirTr)))
	require.NoError(t, err)
	s.cache, err = zone.NewCachingDirectory(httpDir, zone.WithClock(s.clock.Now), zone.WithTTL(time.Minute),
		zone.WithStaleWhileRevalidate(10*time.Second), zone.WithStaleIfError(time.Hour),
		zone.WithLookupTimeout(cfg.lookupTimeout), zone.WithRetryBackoff(5*time.Second))
	require.NoError(t, err)

	store, err := passport.NewMemoryStore()
	require.NoError(t, err)
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.faults.internal", key)
	require.NoError(t, err)
	auth, err := reference.NewAuthentication(reference.AuthenticationConfig{Sessions: store, Issuer: issuer, Directory: s.cache, Logger: quiet()})
	require.NoError(t, err)

	var healthyCell http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteJSON(w, http.StatusOK, map[string]string{"cell": "us01", "path": r.URL.Path})
	})
	s.cellHandler.Store(&healthyCell)
	cellSrv := httptest.NewServer(s.cell.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.cellHandler.Load()).ServeHTTP(w, r)
	})))
	t.Cleanup(cellSrv.Close)
	s.cellTr = edge.NewTransport()
	t.Cleanup(s.cellTr.CloseIdleConnections)

	gw, err := reference.NewGateway(reference.GatewayConfig{
		Zone: "us01", Directory: s.cache,
		AuthURL: "http://auth.internal" + reference.PassportsPath, AuthTransport: s.auth.transport(edge.Binding(s.auth.wrap(auth))),
		Cell:     reference.Upstream{URL: cellSrv.URL, Transport: s.cell.transport(s.cellTr), ResponseHeaderTimeout: cfg.headerTimeout},
		Trust:    edge.TrustBinding,
		Passport: []passport.GatewayOption{passport.WithTimeout(cfg.authTimeout)},
		Logger:   quiet(),
	})
	require.NoError(t, err)
	router, err := reference.NewCellRouter(reference.CellRouterConfig{
		Directory: s.cache, Gateways: map[string]zone.Endpoint{"us01": {Transport: edge.Binding(gw.Internal)}}, Logger: quiet(),
	})
	require.NoError(t, err)
	s.router = router
	s.front = httptest.NewServer(router)
	t.Cleanup(s.front.Close)
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2000}, Timeout: hangTimeout}
	t.Cleanup(s.client.CloseIdleConnections)

	// A session that may act for companies 1 to 200, signed in directly
	// at the store, as a cell's login would.
	companies := make([]string, 200)
	for i := range companies {
		companies[i] = strconv.Itoa(i + 1)
	}
	rec := httptest.NewRecorder()
	_, err = passport.SignIn(context.Background(), rec, store, passport.Session{User: "alice", Companies: companies}, passport.WithInsecureCookie())
	require.NoError(t, err)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	s.cookie = cookies[0].Name + "=" + cookies[0].Value
	return s
}

// setCell replaces what the healthy cell does.
func (s *stack) setCell(h http.HandlerFunc) {
	var hh http.Handler = h
	s.cellHandler.Store(&hh)
}

// answer is what a client saw.
type answer struct {
	status  int
	code    string // problem code, if a problem
	retry   string // Retry-After
	body    []byte
	readErr error // reading the body
	took    time.Duration
}

func (a answer) String() string {
	s := strconv.Itoa(a.status)
	if a.code != "" {
		s += " " + a.code
	}
	if a.retry != "" {
		s += " (Retry-After " + a.retry + ")"
	}
	if a.readErr != nil {
		s += " body cut: " + a.readErr.Error()
	}
	return fmt.Sprintf("%s in %v", s, a.took.Round(time.Millisecond))
}

// get sends GET path for company through the cell router with the session.
func (s *stack) get(ctx context.Context, path, company string) answer {
	s.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.front.URL+path, nil)
	require.NoError(s.t, err)
	req.Header.Set("Procore-Company-Id", company)
	req.Header.Set("Cookie", s.cookie)
	start := time.Now()
	resp, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retry: resp.Header.Get("Retry-After")}
	a.body, a.readErr = io.ReadAll(resp.Body)
	a.took = time.Since(start)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), edge.ContentTypeProblem) {
		var p struct{ Code string }
		_ = json.Unmarshal(a.body, &p)
		a.code = p.Code
	}
	return a
}
