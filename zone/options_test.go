package zone

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// An option given to a constructor that does not read it is a compile
// error in the user's module, not a panic at start-up: each constructor
// has its own option type.
func TestMisplacedOptionsDoNotCompile(t *testing.T) {
	const head = `package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

var (
	_ = http.NotFoundHandler
	_ = edge.TrustBinding
	_ = time.Minute
)

func main() {
	static, _ := zone.ReadStaticDirectory(strings.NewReader("{}"))
	gw := map[string]zone.Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}
	_ = gw
`
	ok := head + `	_, _ = zone.DetectCompany(zone.WithTrust(edge.TrustBinding), zone.WithCompanyHeader("X-Tenant"), zone.WithOptional())
	_, _ = zone.Resolve(static, zone.WithOptional(), zone.WithRetryAfter(time.Second))
	_, _ = zone.NewBaseURLHandler(static, zone.WithTrust(edge.TrustBinding), zone.WithRetryAfter(time.Second))
	_, _ = zone.NewCachingDirectory(static, zone.WithTTL(time.Minute), zone.WithClock(time.Now))
	_, _ = zone.NewRouter(gw, zone.WithTrust(edge.TrustBinding), zone.WithLogger(nil))
	_, _ = zone.NewHTTPDirectory("https://dir.test", zone.WithTransport(nil))
	_, _ = zone.NewStaticDirectory(nil, zone.WithCompanyValidator(nil))
}
`
	misuse := head + `	_, _ = zone.DetectCompany(zone.WithTTL(time.Minute))
	_, _ = zone.Resolve(static, zone.WithTrust(edge.TrustBinding))
	_, _ = zone.NewBaseURLHandler(static, zone.WithOptional())
	_, _ = zone.NewCachingDirectory(static, zone.WithLogger(nil))
	_, _ = zone.NewRouter(gw, zone.WithCompanyHeader("X-Tenant"))
	_, _ = zone.NewHTTPDirectory("https://dir.test", zone.WithClock(time.Now))
	_, _ = zone.NewStaticDirectory(nil, zone.WithQueryParam("tenant"))
}
`
	compilecheck.Fails(t, ok, misuse,
		regexp.MustCompile(`cannot use zone\.WithTTL\(time\.Minute\) .*as zone\.DetectOption value in argument to zone\.DetectCompany`))
	out, _ := compilecheck.Build(t, misuse)
	for _, want := range []string{
		`zone.WithTrust\(edge.TrustBinding\) .*as zone.ResolveOption value`,
		`zone.WithOptional\(\) .*as zone.BaseURLOption value`,
		`zone.WithLogger\(nil\) .*as zone.CacheOption value`,
		`zone.WithCompanyHeader\("X-Tenant"\) .*as zone.RouterOption value`,
		`zone.WithClock\(time.Now\) .*as zone.HTTPDirectoryOption value`,
		`zone.WithQueryParam\("tenant"\) .*as zone.StaticDirectoryOption value`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no compile error matching %q:\n%s", want, out)
		}
	}
}

func staticDir() Directory {
	d, _ := NewStaticDirectory(map[string]Zone{"42": us01})
	return d
}

// builders builds each constructor with opts given as the options common
// to all (a nil option, or the zero value of a shared option type) or
// none; the values each constructor refuses are in
// TestOptionsRefuseInvalidValues.
var builders = map[string]func(nilOption bool) error{
	"DetectCompany": func(n bool) error { _, err := DetectCompany(pick[DetectOption](n, TrustOption{})); return err },
	"Resolve": func(n bool) error {
		_, err := Resolve(staticDir(), pick[ResolveOption](n, OptionalOption{}))
		return err
	},
	"NewBaseURLHandler": func(n bool) error {
		_, err := NewBaseURLHandler(staticDir(), pick[BaseURLOption](n, RetryAfterOption{}))
		return err
	},
	"NewRouter": func(n bool) error {
		_, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}, pick[RouterOption](n, TrustOption{}))
		return err
	},
	"NewCachingDirectory": func(n bool) error {
		_, err := NewCachingDirectory(staticDir(), pick[CacheOption](n, nil))
		return err
	},
	"NewHTTPDirectory": func(n bool) error {
		_, err := NewHTTPDirectory("https://dir.test", pick[HTTPDirectoryOption](n, nil))
		return err
	},
	"NewStaticDirectory": func(n bool) error {
		_, err := NewStaticDirectory(nil, pick[StaticDirectoryOption](n, CompanyValidatorOption{}))
		return err
	},
}

// pick returns the nil option of type O, or zero when not nilOption
// (itself nil where O has no shared option type).
func pick[O any](nilOption bool, zero any) O {
	var o O
	if !nilOption && zero != nil {
		o = zero.(O)
	}
	return o
}

// A nil option, or the zero value of a shared option type, is an error
// naming the constructor, never a panic.
func TestNilAndZeroOptionsAreErrors(t *testing.T) {
	for name, build := range builders {
		for _, nilOption := range []bool{true, false} {
			var err error
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("%s (nil option %v) panicked: %v", name, nilOption, v)
					}
				}()
				err = build(nilOption)
			}()
			if err == nil || !strings.Contains(err.Error(), "zone: "+name+": zero Option") {
				t.Errorf("%s (nil option %v): %v", name, nilOption, err)
			}
		}
	}
}

// A nil directory, as a failed constructor whose error was dropped leaves,
// is an error at construction, never a panic or a failure on the first
// request.
func TestNilDirectoryIsAnError(t *testing.T) {
	if _, err := Resolve(nil); err == nil || !strings.Contains(err.Error(), "zone: Resolve: nil Directory") {
		t.Errorf("Resolve(nil): %v", err)
	}
	if _, err := NewBaseURLHandler(nil); err == nil || !strings.Contains(err.Error(), "zone: NewBaseURLHandler: nil Directory") {
		t.Errorf("NewBaseURLHandler(nil): %v", err)
	}
}

func TestOptionsRefuseInvalidValues(t *testing.T) {
	detect := func(o DetectOption) error { _, err := DetectCompany(o); return err }
	cache := func(o CacheOption) error { _, err := NewCachingDirectory(staticDir(), o); return err }
	router := func(o ...RouterOption) error {
		_, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}, o...)
		return err
	}
	for _, tc := range []struct {
		ctor, opt string
		err       error
	}{
		{"DetectCompany", "WithCompanyHeader", detect(WithCompanyHeader("Bad Header"))},
		{"DetectCompany", "WithCompanyHeader", detect(WithCompanyHeader("a:b"))},
		{"DetectCompany", "WithPathWildcard", detect(WithPathWildcard("company-id"))},
		{"DetectCompany", "WithPathWildcard", detect(WithPathWildcard("1st"))},
		{"DetectCompany", "WithPathSegment", detect(WithPathSegment("a/b"))},
		{"DetectCompany", "WithPathSegment", detect(WithPathSegment(".."))},
		{"DetectCompany", "WithQueryParam", detect(WithQueryParam("a&b"))},
		{"Resolve", "WithRetryAfter", func() error { _, err := Resolve(staticDir(), WithRetryAfter(-1)); return err }()},
		{"NewBaseURLHandler", "WithRetryAfter", func() error { _, err := NewBaseURLHandler(staticDir(), WithRetryAfter(-time.Second)); return err }()},
		{"NewBaseURLHandler", "WithResponseMaxAge", func() error { _, err := NewBaseURLHandler(staticDir(), WithResponseMaxAge(-time.Second)); return err }()},
		{"NewCachingDirectory", "WithTTL", cache(WithTTL(-1))},
		{"NewCachingDirectory", "WithStaleWhileRevalidate", cache(WithStaleWhileRevalidate(-1))},
		{"NewCachingDirectory", "WithStaleIfError", cache(WithStaleIfError(-1))},
		{"NewCachingDirectory", "WithNegativeTTL", cache(WithNegativeTTL(-1))},
		{"NewCachingDirectory", "WithCacheSize", cache(WithCacheSize(-1))},
		{"NewCachingDirectory", "WithNegativeCacheSize", cache(WithNegativeCacheSize(-5))},
		{"NewCachingDirectory", "WithLookupTimeout", cache(WithLookupTimeout(-1))},
		{"NewCachingDirectory", "WithRetryBackoff", cache(WithRetryBackoff(-time.Second))},
		{"NewHTTPDirectory", "WithMaxResponseBytes", func() error { _, err := NewHTTPDirectory("https://dir.test", WithMaxResponseBytes(-1)); return err }()},
		{"NewRouter", "WithCanary", router(WithCanary("US 01", Canary{}))},
		{"NewRouter", "WithCanary", router(WithCanary("us01", Canary{Percent: 101}))},
		{"NewRouter", "WithCanary", router(WithCanary("us01", Canary{Percent: -1}))},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), "zone: "+tc.ctor+": "+tc.opt+": ") {
			t.Errorf("%s(%s): %v", tc.ctor, tc.opt, tc.err)
		}
	}
	// Two canaries for one zone are one too many.
	c := WithCanary("us01", Canary{Endpoint: Endpoint{Transport: edge.Binding(http.NotFoundHandler())}})
	if err := router(c, c); err == nil {
		t.Error("two canaries for us01 accepted")
	}
}

// Zero means the default for every option; a source or feature is turned
// off by an option of its own.
func TestZeroMeansTheDefault(t *testing.T) {
	// Every source of DetectCompany given "" still reads its default.
	zeroes := []DetectOption{WithCompanyHeader(""), WithPathWildcard(""), WithPathSegment(""), WithQueryParam(""), WithCompanyValidator(nil), WithTrust(nil)}
	for target, header := range map[string]string{"/x": "7", "/companies/7/x": "", "/x?company_id=7": ""} {
		next := &okHandler{}
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if header != "" {
			req.Header.Set(DefaultCompanyHeader, header)
		}
		mustDetect(t, zeroes...)(next).ServeHTTP(httptest.NewRecorder(), req)
		if !next.called || CompanyFromContext(next.ctx) != "7" {
			t.Errorf("%s (header %q): company %q, want 7 from the default source", target, header, CompanyFromContext(next.ctx))
		}
	}
	// The Without options turn each source off.
	for _, tc := range []struct {
		target, header string
		off            DetectOption
	}{
		{"/x", "7", WithoutCompanyHeader()},
		{"/companies/7/x", "", WithoutPathSegment()},
		{"/x?company_id=7", "", WithoutQueryParam()},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		if tc.header != "" {
			req.Header.Set(DefaultCompanyHeader, tc.header)
		}
		mustDetect(t, tc.off)(&okHandler{}).ServeHTTP(rec, req)
		if problemCode(t, rec) != "company_missing" {
			t.Errorf("%s with the source off: %d %s", tc.target, rec.Code, rec.Body)
		}
	}
	mux := http.NewServeMux()
	next := &okHandler{}
	mux.Handle("/t/{companyId}/x", mustDetect(t, WithPathWildcard(""), WithoutPathSegment())(next))
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/t/9/x", nil))
	if CompanyFromContext(next.ctx) != "9" {
		t.Errorf("WithPathWildcard(\"\") reads %q, want the default wildcard's 9", CompanyFromContext(next.ctx))
	}
	rec := httptest.NewRecorder()
	mux = http.NewServeMux()
	mux.Handle("/t/{companyId}/x", mustDetect(t, WithoutPathWildcard(), WithoutPathSegment())(&okHandler{}))
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/t/9/x", nil))
	if problemCode(t, rec) != "company_missing" {
		t.Errorf("WithoutPathWildcard still read the wildcard: %d", rec.Code)
	}

	// The base URL answer: zero max-age is the default, no-store its own option.
	for _, tc := range []struct {
		opt  BaseURLOption
		want string
	}{
		{WithResponseMaxAge(0), "private, max-age=60"},
		{WithResponseMaxAge(5 * time.Second), "private, max-age=5"},
		{WithoutResponseCaching(), "no-store"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		mustBaseURL(t, staticDir(), tc.opt).ServeHTTP(rec, req.WithContext(ContextWithCompany(req.Context(), "42")))
		if got := rec.Header().Get("Cache-Control"); got != tc.want {
			t.Errorf("Cache-Control %q, want %q", got, tc.want)
		}
	}
	// Zero Retry-After is the default five seconds.
	down := &countingDirectory{fn: func(context.Context, string) (Zone, error) { return Zone{}, errors.New("down") }}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	mustResolve(t, down, WithRetryAfter(0))(&okHandler{}).ServeHTTP(rec, req.WithContext(ContextWithCompany(req.Context(), "42")))
	if got := rec.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	// Zero sizes and bounds of the caches are their defaults.
	for _, o := range []CacheOption{WithTTL(0), WithStaleWhileRevalidate(0), WithStaleIfError(0), WithNegativeTTL(0),
		WithCacheSize(0), WithNegativeCacheSize(0), WithLookupTimeout(0), WithRetryBackoff(0), WithClock(nil)} {
		c, err := NewCachingDirectory(staticDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		if c.ttl != defaultTTL || c.swr != defaultSWR || c.maxStale != defaultMaxStale || c.negTTL != defaultNegTTL ||
			c.timeout != defaultLookupTimeout || c.backoff != defaultRetryBackoff || c.now == nil {
			t.Errorf("%s(0) is not the default: %+v", o.cacheOption().name, c)
		}
	}
	if _, err := NewHTTPDirectory("https://dir.test", WithMaxResponseBytes(0)); err != nil {
		t.Error(err)
	}
}

// WithoutStaleWhileRevalidate, WithoutStaleIfError and
// WithoutNegativeCaching each turn their feature off.
func TestCacheFeaturesOff(t *testing.T) {
	var down atomic.Bool
	dir := &countingDirectory{fn: func(_ context.Context, company string) (Zone, error) {
		switch {
		case down.Load():
			return Zone{}, errors.New("down")
		case company == "42":
			return us01, nil
		}
		return Zone{}, ErrUnknownCompany
	}}
	clock := newFakeClock()
	lookup := func(c *CachingDirectory, company string) error { _, err := c.Lookup(t.Context(), company); return err }

	// Without either stale window a zone past its TTL waits for the
	// directory: the call happens before Lookup returns.
	c := newTestCache(t, dir, clock, WithoutStaleWhileRevalidate(), WithoutStaleIfError())
	_ = lookup(c, "42")
	clock.Advance(time.Minute + time.Second)
	before := dir.calls.Load()
	if err := lookup(c, "42"); err != nil || dir.calls.Load() != before+1 || c.Stats().StaleServed != 0 {
		t.Errorf("past the TTL: err %v, calls %d (want %d), stale %d", err, dir.calls.Load(), before+1, c.Stats().StaleServed)
	}
	// With stale-while-revalidate (10 s here) it is served stale.
	c = newTestCache(t, dir, clock, WithoutStaleIfError())
	_ = lookup(c, "42")
	clock.Advance(time.Minute + time.Second)
	if err := lookup(c, "42"); err != nil || c.Stats().StaleServed != 1 {
		t.Errorf("within stale-while-revalidate: err %v, stale %d", err, c.Stats().StaleServed)
	}
	c.wg.Wait()

	// Past both windows, a failing directory fails the lookup without
	// stale-if-error, and is stood in for with it.
	for _, off := range []bool{true, false} {
		opts := []CacheOption{}
		if off {
			opts = append(opts, WithoutStaleIfError())
		}
		c = newTestCache(t, dir, clock, opts...)
		_ = lookup(c, "42")
		clock.Advance(2 * time.Minute)
		down.Store(true)
		if err := lookup(c, "42"); (err == nil) == off {
			t.Errorf("stale-if-error off %v: lookup while the directory fails: %v", off, err)
		}
		c.wg.Wait()
		down.Store(false)
	}

	// Without negative caching every lookup of an unknown company asks.
	c = newTestCache(t, dir, clock, WithoutNegativeCaching())
	before = dir.calls.Load()
	_, _ = lookup(c, "7"), lookup(c, "7")
	if got := dir.calls.Load() - before; got != 2 {
		t.Errorf("two lookups of an unknown company made %d calls, want 2", got)
	}
	c = newTestCache(t, dir, clock)
	before = dir.calls.Load()
	_, _ = lookup(c, "7"), lookup(c, "7")
	if got := dir.calls.Load() - before; got != 1 {
		t.Errorf("with negative caching, two lookups made %d calls, want 1", got)
	}
}

// staticFile is a directory file for LoadStaticDirectory.
func staticFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "zones.json")
	if err := os.WriteFile(p, []byte(`{"acme": {"zone":"us01","web_base_url":"https://us01.procore.com"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The static directory's three constructors share WithCompanyValidator.
func TestStaticDirectoryConstructorsShareTheValidator(t *testing.T) {
	acme := WithCompanyValidator(func(id string) bool { return id == "acme" })
	if _, err := LoadStaticDirectory(staticFile(t)); err == nil {
		t.Error("LoadStaticDirectory took acme without a validator")
	}
	if _, err := LoadStaticDirectory(staticFile(t), acme); err != nil {
		t.Error(err)
	}
	if _, err := NewStaticDirectory(map[string]Zone{"acme": us01}, acme); err != nil {
		t.Error(err)
	}
}
