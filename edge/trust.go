package edge

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// Trust decides whether a request arrived from a trusted hop, whose
// request ID and internal headers may be believed. Every package of cellgate
// takes one; at a public edge nothing is trusted.
type Trust func(*http.Request) bool

// TrustNone trusts no request. It is the default everywhere.
func TrustNone(*http.Request) bool { return false }

// TrustBinding trusts requests that arrived through a [Binding].
func TrustBinding(r *http.Request) bool { return ViaBinding(r) }

// TrustAny trusts a request that any of ts trusts.
func TrustAny(ts ...Trust) Trust {
	return func(r *http.Request) bool {
		for _, t := range ts {
			if t != nil && t(r) {
				return true
			}
		}
		return false
	}
}

// TrustNetworks trusts requests whose remote address lies in one of the
// given CIDR prefixes (for example "10.0.0.0/8" or "127.0.0.1/32"). It reads
// r.RemoteAddr only, never a forwarding header.
func TrustNetworks(cidrs ...string) (Trust, error) {
	prefixes := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("edge: trusted network %q: %w", c, err)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return func(r *http.Request) bool {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		for _, p := range prefixes {
			if p.Contains(addr) {
				return true
			}
		}
		return false
	}, nil
}
