package zone

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// allOptions holds one valid instance of every option of the package.
var allOptions = []Option{
	WithTrust(edge.TrustBinding), WithHeader("X-Tenant"), WithPathWildcard("tenant"), WithPathSegment("tenants"),
	WithQueryParam("tenant"), WithValidator(ValidCompanyID), WithOptional(), WithClock(time.Now),
	WithLogger(nil), WithTransport(http.DefaultTransport), WithTTL(time.Minute), WithStaleWhileRevalidate(time.Second),
	WithStaleIfError(time.Hour), WithNegativeTTL(time.Second), WithCacheSize(10), WithNegativeCacheSize(10),
	WithLookupTimeout(time.Second), WithRetryBackoff(time.Second), WithMaxResponseBytes(1024), WithRetryAfter(time.Second), WithCacheMaxAge(0),
	WithCanary("us01", Canary{Endpoint: Endpoint{Transport: edge.Binding(http.NotFoundHandler())}, Percent: 5}),
	WithFlags(func(*http.Request, string, bool) bool { return false }),
	WithDirectoryObserver(nil),
}

// constructors builds each constructor of the package with opts; the
// middleware constructors' panics come back as errors.
var constructors = map[string]struct {
	reads []string
	build func(opts ...Option) error
}{
	"DetectCompany":  {detectOptions, func(opts ...Option) error { return recovered(func() { DetectCompany(opts...) }) }},
	"Resolve":        {resolveOptions, func(opts ...Option) error { return recovered(func() { Resolve(staticDir(), opts...) }) }},
	"BaseURLHandler": {baseURLOptions, func(opts ...Option) error { return recovered(func() { BaseURLHandler(staticDir(), opts...) }) }},
	"NewRouter": {routerOptions, func(opts ...Option) error {
		_, err := NewRouter(map[string]Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}, opts...)
		return err
	}},
	"NewCachingDirectory": {cacheOptions, func(opts ...Option) error { _, err := NewCachingDirectory(staticDir(), opts...); return err }},
	"NewHTTPDirectory":    {httpDirOptions, func(opts ...Option) error { _, err := NewHTTPDirectory("https://dir.test", opts...); return err }},
	"NewStaticDirectory": {staticOptions, func(opts ...Option) error {
		_, err := NewStaticDirectory(map[string]Zone{"42": us01}, opts...)
		return err
	}},
	"ReadStaticDirectory": {staticOptions, func(opts ...Option) error {
		_, err := ReadStaticDirectory(strings.NewReader(`{}`), opts...)
		return err
	}},
	"LoadStaticDirectory": {staticOptions, func(opts ...Option) error {
		_, err := LoadStaticDirectory(staticFile, opts...)
		return err
	}},
}

// staticFile is a directory file for LoadStaticDirectory, made by
// writeStaticFile.
var staticFile string

func writeStaticFile(t *testing.T) {
	staticFile = filepath.Join(t.TempDir(), "zones.json")
	if err := os.WriteFile(staticFile, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

func staticDir() Directory {
	d, _ := NewStaticDirectory(map[string]Zone{"42": us01})
	return d
}

func recovered(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	f()
	return nil
}

// Every constructor takes each option it reads and refuses, naming option
// and constructor, each one it does not.
func TestConstructorsRefuseOptionsTheyDoNotRead(t *testing.T) {
	writeStaticFile(t)
	for name, ctor := range constructors {
		for _, o := range allOptions {
			err := ctor.build(o)
			reads := false
			for _, r := range ctor.reads {
				reads = reads || r == o.Name()
			}
			switch {
			case reads && err != nil:
				t.Errorf("%s(%s): %v", name, o.Name(), err)
			case !reads && err == nil:
				t.Errorf("%s accepted %s", name, o.Name())
			case !reads && !strings.Contains(err.Error(), "zone: "+name+" does not take option "+o.Name()):
				t.Errorf("%s(%s): error %q names neither", name, o.Name(), err)
			}
		}
	}
	// Every name a constructor lists is an option that exists.
	names := map[string]bool{}
	for _, o := range allOptions {
		names[o.Name()] = true
	}
	for name, ctor := range constructors {
		for _, r := range ctor.reads {
			if !names[r] {
				t.Errorf("%s lists unknown option %s", name, r)
			}
		}
	}
}

func TestOptionsRefuseInvalidValues(t *testing.T) {
	for _, tc := range []struct {
		ctor string
		opt  Option
	}{
		{"DetectCompany", WithHeader("Bad Header")},
		{"DetectCompany", WithHeader("a:b")},
		{"DetectCompany", WithPathWildcard("company-id")},
		{"DetectCompany", WithPathWildcard("1st")},
		{"DetectCompany", WithPathSegment("a/b")},
		{"DetectCompany", WithPathSegment("..")},
		{"DetectCompany", WithQueryParam("a&b")},
		{"Resolve", WithRetryAfter(0)},
		{"BaseURLHandler", WithRetryAfter(-time.Second)},
		{"NewCachingDirectory", WithTTL(0)},
		{"NewCachingDirectory", WithStaleWhileRevalidate(-1)},
		{"NewCachingDirectory", WithStaleIfError(-1)},
		{"NewCachingDirectory", WithNegativeTTL(-1)},
		{"NewCachingDirectory", WithCacheSize(0)},
		{"NewCachingDirectory", WithNegativeCacheSize(-5)},
		{"NewCachingDirectory", WithLookupTimeout(0)},
		{"NewCachingDirectory", WithRetryBackoff(-time.Second)},
		{"NewHTTPDirectory", WithMaxResponseBytes(0)},
		{"NewRouter", WithCanary("US 01", Canary{})},
		{"NewRouter", WithCanary("us01", Canary{Percent: 101})},
		{"NewRouter", WithCanary("us01", Canary{Percent: -1})},
	} {
		err := constructors[tc.ctor].build(tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.ctor+": "+tc.opt.Name()) {
			t.Errorf("%s(%s): %v", tc.ctor, tc.opt.Name(), err)
		}
	}
	// Two canaries for one zone are one too many.
	c := WithCanary("us01", Canary{Endpoint: Endpoint{Transport: edge.Binding(http.NotFoundHandler())}})
	if err := constructors["NewRouter"].build(c, c); err == nil {
		t.Error("two canaries for us01 accepted")
	}
	// The zero Option is no option.
	if err := constructors["NewCachingDirectory"].build(Option{}); err == nil || !strings.Contains(err.Error(), "zero Option") {
		t.Errorf("zero Option: %v", err)
	}
	if err := constructors["DetectCompany"].build(Option{}); err == nil {
		t.Error("DetectCompany took the zero Option")
	}
	// Disabling a source is no invalid value.
	if err := constructors["DetectCompany"].build(WithHeader(""), WithPathWildcard(""), WithPathSegment(""), WithQueryParam("")); err != nil {
		t.Error(err)
	}
}
