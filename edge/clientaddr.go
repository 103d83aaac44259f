package edge

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns the address of r's client: the address r came from,
// or, when trust(r) says r came from a trusted hop (an edge.Proxy in front),
// the last X-Forwarded-For entry, the one that hop appended; whatever comes
// before it the client could have written. ok is false when the address is
// no IP address (an edge.Binding's "binding"). IPv4-mapped IPv6 addresses are returned as IPv4, and
// IPv6 zones are dropped.
func ClientAddr(r *http.Request, trust Trust) (addr netip.Addr, ok bool) {
	host := r.RemoteAddr
	if trust != nil && trust(r) {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			host = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	return parseHostAddr(host)
}

// parseHostAddr reads "192.0.2.1", "192.0.2.1:4000" or "[2001:db8::1]:4000".
// It tries the form the text has first, so that a valid address costs no
// allocation (a parse error does: it is boxed).
func parseHostAddr(host string) (netip.Addr, bool) {
	var addr netip.Addr
	if strings.HasPrefix(host, "[") || strings.Count(host, ":") == 1 {
		ap, err := netip.ParseAddrPort(host)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = ap.Addr()
	} else {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = a
	}
	return addr.Unmap().WithZone(""), true
}

// clientPrefix is the address a per-client limit of a connection counts:
// the IPv4 address, or the IPv6 /64 (one host's usual allocation).
func clientPrefix(a net.Addr) netip.Prefix {
	var addr netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		addr = ta.AddrPort().Addr().Unmap().WithZone("")
	} else {
		addr, _ = parseHostAddr(a.String())
	}
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits) // the zero Prefix for an address that is neither: one shared bucket
	return p
}
