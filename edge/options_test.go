package edge_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// construct runs one constructor of the package with opts and returns its
// error, or the panic of a middleware constructor as an error.
var construct = map[string]func(opts ...edge.Option) error{
	"AccessLog":       func(o ...edge.Option) error { return catch(func() { edge.AccessLog(o...) }) },
	"Recover":         func(o ...edge.Option) error { return catch(func() { edge.Recover(o...) }) },
	"RequestID":       func(o ...edge.Option) error { return catch(func() { edge.RequestID(o...) }) },
	"SecurityHeaders": func(o ...edge.Option) error { return catch(func() { edge.SecurityHeaders(o...) }) },
	"StripInternal":   func(o ...edge.Option) error { return catch(func() { edge.StripInternal(o...) }) },
	"TLSFloor":        func(o ...edge.Option) error { return catch(func() { edge.TLSFloor(0, o...) }) },
	"NewHealth":       func(o ...edge.Option) error { _, err := edge.NewHealth(nil, o...); return err },
	"ProxyTo":         func(o ...edge.Option) error { _, err := edge.ProxyTo("http://up.internal", o...); return err },
	"NewProxy": func(o ...edge.Option) error {
		_, err := edge.NewProxy(func(*http.Request) (*url.URL, error) { return nil, nil }, o...)
		return err
	},
}

type panicError struct{ v any }

func (p panicError) Error() string {
	if err, ok := p.v.(error); ok {
		return err.Error()
	}
	return "panic"
}

func catch(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{v}
		}
	}()
	f()
	return nil
}

// TestOptionsRefused: every constructor refuses every option it does not
// read, naming both, and takes every one it reads.
func TestOptionsRefused(t *testing.T) {
	valid := []edge.Option{
		edge.WithLogger(nil), edge.WithTrust(edge.TrustNone), edge.WithTransport(nil),
		edge.WithInternalPrefix("Acme-"), edge.WithStripHeaders("X-Passport"), edge.WithKeepHeaders("X-Http-Method"), edge.WithCSP("default-src 'none'"),
		edge.WithHSTS(time.Hour), edge.WithReferrerPolicy("no-referrer"), edge.WithTLSHeader("X-Tls-Version"),
		edge.WithFlushInterval(0), edge.WithCheckTimeout(time.Second),
		edge.WithResponseHeaderTimeout(time.Second), edge.WithWebSocket(nil), edge.WithService("gateway-us01"),
	}
	reads := map[string][]string{
		"AccessLog":       {"WithLogger", "WithService"},
		"Recover":         {"WithLogger"},
		"RequestID":       {"WithTrust"},
		"SecurityHeaders": {"WithCSP", "WithHSTS", "WithReferrerPolicy"},
		"StripInternal":   {"WithInternalPrefix", "WithStripHeaders", "WithKeepHeaders", "WithTrust"},
		"TLSFloor":        {"WithTLSHeader", "WithTrust"},
		"NewHealth":       {"WithCheckTimeout", "WithLogger"},
		"ProxyTo":         {"WithTransport", "WithLogger", "WithFlushInterval", "WithTrust", "WithResponseHeaderTimeout", "WithWebSocket"},
		"NewProxy":        {"WithTransport", "WithLogger", "WithFlushInterval", "WithTrust", "WithResponseHeaderTimeout", "WithWebSocket"},
	}
	for ctor, f := range construct {
		for _, o := range valid {
			err := f(o)
			read := false
			for _, n := range reads[ctor] {
				read = read || n == o.Name()
			}
			if read {
				if err != nil {
					t.Errorf("%s(%s) = %v, want it taken", ctor, o.Name(), err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), ctor) || !strings.Contains(err.Error(), o.Name()) {
				t.Errorf("%s(%s) = %v, want an error naming both", ctor, o.Name(), err)
			}
		}
	}
}

// TestOptionsInvalid: an invalid value is refused at construction.
func TestOptionsInvalid(t *testing.T) {
	for _, tt := range []struct {
		ctor string
		opt  edge.Option
	}{
		{"AccessLog", edge.WithService("gateway\nus01")},
		{"StripInternal", edge.WithInternalPrefix("Bad Prefix")},
		{"StripInternal", edge.WithStripHeaders("X-Ok", "bad:name")},
		{"StripInternal", edge.WithKeepHeaders("X-Original-Url", "Cellgate-Zone")},
		{"StripInternal", edge.WithKeepHeaders("X-Forwarded-Prefix")},
		{"SecurityHeaders", edge.WithCSP("default-src 'self'\r\nSet-Cookie: a=b")},
		{"SecurityHeaders", edge.WithHSTS(-time.Second)},
		{"SecurityHeaders", edge.WithReferrerPolicy("sometimes")},
		{"TLSFloor", edge.WithTLSHeader("")},
		{"TLSFloor", edge.WithTLSHeader("X Tls")},
		{"NewHealth", edge.WithCheckTimeout(0)},
		{"NewHealth", edge.WithCheckTimeout(-time.Second)},
		{"NewProxy", edge.WithResponseHeaderTimeout(0)},
	} {
		err := construct[tt.ctor](tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.ctor) || !strings.Contains(err.Error(), tt.opt.Name()) {
			t.Errorf("%s(invalid %s) = %v, want an error naming both", tt.ctor, tt.opt.Name(), err)
		}
	}
}

func TestZeroOptionRefused(t *testing.T) {
	if _, err := edge.ProxyTo("http://up.internal", edge.Option{}); err == nil {
		t.Error("zero Option taken")
	}
}

func TestPositionalInvalid(t *testing.T) {
	if catch(func() { edge.BodyIdle(-time.Second) }) == nil {
		t.Error("BodyIdle took a negative idle timeout")
	}
	if catch(func() { edge.TLSFloor(0x0200) }) == nil {
		t.Error("TLSFloor took an unknown version")
	}
	if err := catch(func() { edge.BodyIdle(0); edge.TLSFloor(0x0303) }); err != nil {
		t.Error(err)
	}
}
