package ratelimit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/zone"
	"golang.org/x/time/rate"
)

// limiter is New(1 request/s, bursts of 3) with opts on a fake clock that
// never moves unless told, and a way to send a request through it.
type limiter struct {
	clock *fakeclock.Clock
	h     http.Handler
}

func newLimiter(t *testing.T, opts ...Option) *limiter {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	mw, err := New(rate.Limit(1), 3, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &limiter{clock: clock, h: mw(ok)}
}

// req is one request: from addr (host:port), naming company (as
// zone.DetectCompany would put it in the context), authenticated as
// principal ("" for anonymous), with header set.
type req struct {
	addr, company, principal string
	header                   http.Header
}

func (l *limiter) do(q req) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = q.addr
	for k, v := range q.header {
		r.Header[k] = v
	}
	ctx := r.Context()
	if q.company != "" {
		ctx = zone.ContextWithCompany(ctx, q.company)
	}
	if q.principal != "" {
		ctx = edge.ContextWithPrincipal(ctx, q.principal)
	}
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

// passed counts the requests of qs let through.
func (l *limiter) passed(qs []req) int {
	n := 0
	for _, q := range qs {
		if l.do(q).Code == http.StatusNoContent {
			n++
		}
	}
	return n
}

// Ten fresh sessions of one company, three requests each, against a
// company budget of a burst of 3: 3 pass, not 30. Before the fix the
// key was (company, session), so each session brought a new bucket.
func TestCompanyBudgetIsSharedBySessions(t *testing.T) {
	l := newLimiter(t)
	var qs []req
	for s := range 10 {
		for range 3 {
			qs = append(qs, req{addr: fmt.Sprintf("198.51.100.%d:4000", s), company: "42", principal: fmt.Sprintf("session:%d", s)})
		}
	}
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of %d requests of ten sessions passed, want the company's burst of 3", got, len(qs))
	}
	// Another company's budget is its own.
	if got := l.passed([]req{{addr: "198.51.100.1:4000", company: "43", principal: "session:x"}}); got != 1 {
		t.Fatalf("company 43 was limited by company 42")
	}
	// A company-less route counts against the principal.
	if got := l.passed([]req{{addr: "198.51.100.1:4000", principal: "session:0"}}); got != 1 {
		t.Fatalf("a company-less request was limited by the company")
	}
}

// Anonymous clients are counted by their IPv6 /64: five addresses of one
// /64 share one bucket. Before the fix each address had its own (15 of
// 15 passed).
func TestAnonymousIPv6CountsBySlash64(t *testing.T) {
	l := newLimiter(t)
	var qs []req
	for i := range 5 {
		for range 3 {
			qs = append(qs, req{addr: fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)})
		}
	}
	qs = append(qs, req{addr: "[2001:db8:1:2:ffff:ffff:ffff:ffff%eth0]:1"}) // a zone changes nothing
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of %d requests from one /64 passed, want a burst of 3", got, len(qs))
	}
	// The next /64, and IPv4 clients, each have their own.
	for _, addr := range []string{"[2001:db8:1:3::1]:4000", "192.0.2.1:4000", "192.0.2.2:4000"} {
		if got := l.passed([]req{{addr: addr}}); got != 1 {
			t.Fatalf("%s was limited by another client", addr)
		}
	}
	// An IPv4-mapped IPv6 address is its IPv4 address.
	for range 2 {
		l.do(req{addr: "192.0.2.1:4001"})
	}
	if got := l.passed([]req{{addr: "[::ffff:192.0.2.1]:4000"}}); got != 0 {
		t.Fatalf("::ffff:192.0.2.1 has a bucket apart from 192.0.2.1")
	}
}

// The prefixes are options: a /48 and a /24 in one bucket.
func TestAnonymousPrefixesConfigurable(t *testing.T) {
	l := newLimiter(t, WithIPv6Prefix(48), WithIPv4Prefix(24))
	qs := []req{{addr: "[2001:db8:1:2::1]:1"}, {addr: "[2001:db8:1:3::1]:1"}, {addr: "[2001:db8:1:ffff::1]:1"}, {addr: "[2001:db8:1::1]:1"}}
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of 4 requests from one /48 passed, want 3", got)
	}
	qs = []req{{addr: "192.0.2.1:1"}, {addr: "192.0.2.200:1"}, {addr: "192.0.2.7:1"}, {addr: "192.0.2.8:1"}}
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of 4 requests from one /24 passed, want 3", got)
	}
	if got := l.passed([]req{{addr: "192.0.3.1:1"}, {addr: "[2001:db8:2::1]:1"}}); got != 2 {
		t.Fatalf("the next /24 or /48 was limited")
	}
	for _, o := range []PrefixOption{WithIPv4Prefix(33), WithIPv4Prefix(-1), WithIPv6Prefix(129)} {
		if _, err := New(1, 1, o); err == nil || !strings.HasPrefix(err.Error(), "ratelimit: New: "+o.o.name+": ") {
			t.Errorf("New(%s) = %v, want an error naming it", o.o.name, err)
		}
		if _, err := NewKeyFunc(o); err == nil || !strings.HasPrefix(err.Error(), "ratelimit: NewKeyFunc: "+o.o.name+": ") {
			t.Errorf("NewKeyFunc(%s) = %v, want an error naming it", o.o.name, err)
		}
	}
}

// An anonymous client that names a new company on every request gets no
// new budget: 3 of 1000 pass. Before the fix the key was (company,
// address), and all 1000 passed.
func TestAnonymousRotatingCompanyGetsNoNewBudget(t *testing.T) {
	l := newLimiter(t)
	qs := make([]req, 1000)
	for i := range qs {
		qs[i] = req{addr: "203.0.113.9:5000", company: fmt.Sprint(i + 1)}
	}
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of 1000 requests naming 1000 companies passed, want a burst of 3", got)
	}
	// At 1 request/s, the refill is one request a second whatever is named.
	passed := 0
	for i := range 100 {
		l.clock.Advance(100 * time.Millisecond)
		passed += l.passed([]req{{addr: "203.0.113.9:5000", company: fmt.Sprint(2000 + i)}})
	}
	if passed != 10 {
		t.Fatalf("%d requests passed in 10 s at 1 request/s", passed)
	}
}

// The address is the connection's unless the hop is trusted: a client's
// X-Forwarded-For buys nothing, a trusted hop's last entry names the client.
func TestAnonymousAddressFromTrustedHopOnly(t *testing.T) {
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	untrusted := newLimiter(t)
	qs := make([]req, 10)
	for i := range qs {
		qs[i] = req{addr: "203.0.113.9:5000", header: xff(fmt.Sprintf("192.0.2.%d", i))}
	}
	if got := untrusted.passed(qs); got != 3 {
		t.Fatalf("%d of 10 with forged X-Forwarded-For passed, want 3", got)
	}

	trust, err := edge.TrustNetworks("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimiter(t, WithTrust(trust))
	// Through the trusted router (10.0.0.1): the client is the last entry,
	// whatever the client wrote before it.
	qs = qs[:0]
	for i := range 5 {
		qs = append(qs, req{addr: "10.0.0.1:80", header: xff(fmt.Sprintf("192.0.2.%d, 198.51.100.7", i))})
	}
	if got := l.passed(qs); got != 3 {
		t.Fatalf("%d of 5 from one client through the router passed, want 3", got)
	}
	for _, h := range []http.Header{xff("198.51.100.8"), {"X-Forwarded-For": {"192.0.2.1", "2001:db8::1"}}} {
		if got := l.passed([]req{{addr: "10.0.0.1:80", header: h}}); got != 1 {
			t.Fatalf("another client through the router (%v) was limited", h)
		}
	}
	// Straight from the Internet, the header is the client's own: ignored.
	for range 3 {
		l.do(req{addr: "203.0.113.10:1", header: xff("198.51.100.99")})
	}
	if got := l.passed([]req{{addr: "203.0.113.10:2", header: xff("198.51.100.100")}}); got != 0 {
		t.Fatalf("an untrusted client got a new bucket from X-Forwarded-For")
	}
}

// WithPrincipalLimit: each session spends at most its share of the
// company's budget, and a request one bucket refuses costs the other
// nothing.
func TestPrincipalLimitSharesTheCompanyBudget(t *testing.T) {
	l := newLimiter(t, WithPrincipalLimit(0.5, 1))
	as := func(p string) int { return l.do(req{addr: "192.0.2.1:1", company: "42", principal: p}).Code }
	codes := []int{as("session:a"), as("session:a"), as("session:a"), as("session:b"), as("session:c"), as("session:d")}
	want := []int{204, 429, 429, 204, 204, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("codes %v, want %v: a's share is 1, the company's 3", codes, want)
	}
	w := l.do(req{addr: "192.0.2.1:1", company: "42", principal: "session:a"})
	if got := w.Header().Get("RateLimit-Policy"); got != `"company";q=3;w=3, "principal";q=1;w=2` {
		t.Errorf("RateLimit-Policy %q", got)
	}
	if got := w.Header().Get("RateLimit"); got != `"company";r=0;t=3, "principal";r=0;t=2` {
		t.Errorf("RateLimit %q", got)
	}
	if got := w.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want a's share's 2 s", got)
	}
	// The company refused d: d's share was given back, so once the
	// company has a token again d gets it.
	l.clock.Advance(time.Second)
	if code := as("session:d"); code != 204 {
		t.Fatalf("d after a company token came back: %d", code)
	}
	// Anonymous requests have no share, only their address's bucket.
	anon := 0
	for range 4 {
		if l.do(req{addr: "192.0.2.9:1", company: "42"}).Code == 204 {
			anon++
		}
	}
	if anon != 3 {
		t.Fatalf("%d of 4 anonymous passed, want 3", anon)
	}
	for _, o := range []Option{WithPrincipalLimit(2, 1), WithPrincipalLimit(1, 4), WithPrincipalLimit(1, 0), WithPrincipalLimit(0, 1), WithPrincipalLimit(-1, 1)} {
		if _, err := New(1, 3, o); err == nil {
			t.Errorf("New(1, 3, %v) took a share it cannot have", o)
		}
	}
	if _, err := New(1, 3, WithPrincipalLimit(0, 0)); err != nil {
		t.Errorf("zero share (the default): %v", err)
	}
}

// The key options belong to the default key: beside WithKeyFunc they
// would be ignored, so New refuses them; NewKeyFunc reads only them (and
// any other option does not compile: TestMisplacedOptionsDoNotCompile).
func TestKeyOptions(t *testing.T) {
	custom := WithKeyFunc(func(*http.Request) string { return "k" })
	for _, o := range []interface {
		Option
		KeyFuncOption
	}{WithIPv4Prefix(24), WithIPv6Prefix(48), WithTrust(edge.TrustBinding)} {
		if _, err := New(1, 1, custom, o); err == nil {
			t.Errorf("New took WithKeyFunc and %v", o)
		}
		if _, err := NewKeyFunc(o); err != nil {
			t.Errorf("NewKeyFunc(%v): %v", o, err)
		}
	}
	key, err := NewKeyFunc(WithIPv6Prefix(56))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8:1:2ff::1]:443"
	if got := key(r); got != "addr:2001:db8:1:200::/56" {
		t.Errorf("key %q", got)
	}
	if got := DefaultKey(r); got != "addr:2001:db8:1:2ff::/64" {
		t.Errorf("DefaultKey %q", got)
	}
}
