package edge

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// TLSFloor refuses clients whose TLS version is below min with a 403
// tls_version_too_old problem that tells a person what to do. The version
// is read from r.TLS; a request that arrived without TLS is judged by the
// header named with [WithTLSHeader] when the hop is trusted ([WithTrust]),
// as behind a terminating proxy, and passes when there is nothing to judge.
//
// min is tls.VersionTLS10 to tls.VersionTLS13; zero means
// [DefaultTLSFloor] (TLS 1.2). Another min, or an invalid option, is an
// error.
func TLSFloor(min uint16, opts ...TLSFloorOption) (func(http.Handler) http.Handler, error) {
	if min == 0 {
		min = DefaultTLSFloor
	}
	if min < tls.VersionTLS10 || min > tls.VersionTLS13 {
		return nil, fmt.Errorf("edge: TLSFloor: unknown TLS version %#04x", min)
	}
	c, err := newConfig("TLSFloor", opts, TLSFloorOption.tlsFloorOption)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			version, known := uint16(0), false
			if r.TLS != nil {
				version, known = r.TLS.Version, true
			} else if c.tlsHeader != "" && c.trust(r) {
				version, known = ParseTLSVersion(r.Header.Get(c.tlsHeader))
			}
			if known && version < min {
				WriteProblem(w, r, ErrTLSVersionTooOld)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// DefaultTLSFloor is the floor of [TLSFloor] given zero: TLS 1.2.
const DefaultTLSFloor = tls.VersionTLS12

// ParseTLSVersion reads a TLS version as proxies write it: "TLSv1.2",
// "TLS 1.3", "1.2", or tls.VersionName's "TLS 1.2".
func ParseTLSVersion(s string) (uint16, bool) {
	s = strings.TrimSpace(strings.ToUpper(s))
	s = strings.TrimPrefix(s, "TLS")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "V"), " ")
	switch s {
	case "1.0", "1":
		return tls.VersionTLS10, true
	case "1.1":
		return tls.VersionTLS11, true
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	if n, err := strconv.ParseUint(s, 0, 16); err == nil && n >= tls.VersionTLS10 {
		return uint16(n), true
	}
	return 0, false
}

// TLSConfig returns a server TLS configuration whose minimum version is min,
// and never below TLS 1.2.
func TLSConfig(min uint16) *tls.Config {
	if min < tls.VersionTLS12 {
		min = tls.VersionTLS12
	}
	return &tls.Config{MinVersion: min}
}
