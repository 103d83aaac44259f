package ratelimit

import (
	"fmt"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Default address prefixes an anonymous client is counted under: one
// IPv4 address, or one IPv6 /64, the block a single subscriber, host or
// cloud instance is given (RFC 6177) and can rotate inside at will.
const (
	DefaultIPv4Prefix = 32 // WithIPv4Prefix
	DefaultIPv6Prefix = 64 // WithIPv6Prefix
)

// DefaultKey is the key New counts r under unless WithKeyFunc, with the
// default address prefixes and no trusted hop (see NewKeyFunc):
//
//   - a request with an authenticated principal (edge.PrincipalFromContext)
//     and a company counts against the company's budget, shared by all its
//     principals, so a client cannot multiply its budget by opening
//     sessions (WithPrincipalLimit gives each principal a share of it);
//   - one with a principal and no company (a company-less route) against
//     its principal's;
//   - an anonymous one against its client address, IPv4 by the address
//     and IPv6 by its /64, whatever company it names: naming another
//     company, or another address of its /64, gets no new budget.
//
// The address is the connection's (r.RemoteAddr), never a forwarding
// header. Behind a router or an edge.Binding that address is the hop's,
// so anonymous requests share one bucket there: limit anonymous traffic
// at the public edge, or pass WithTrust to read the address the hop saw.
func DefaultKey(r *http.Request) string { return defaultKeyer.key(r) }

var defaultKeyer = keyer{v4: DefaultIPv4Prefix, v6: DefaultIPv6Prefix, trust: edge.TrustNone}

// NewKeyFunc returns DefaultKey with other address prefixes or a trusted
// hop, for New's WithKeyFunc or redisrate's. Options (KeyFuncOption):
// WithIPv4Prefix, WithIPv6Prefix, WithTrust.
func NewKeyFunc(opts ...KeyFuncOption) (func(*http.Request) string, error) {
	c, err := newConfig("NewKeyFunc", opts, KeyFuncOption.keyFuncOption)
	if err != nil {
		return nil, err
	}
	return c.keyer.key, nil
}

// keyer is DefaultKey's rule with its prefixes and trust.
type keyer struct {
	v4, v6 int
	trust  edge.Trust
}

func (k keyer) key(r *http.Request) string {
	ctx := r.Context()
	company := zone.CompanyFromContext(ctx)
	switch p := edge.PrincipalFromContext(ctx); {
	case p != "" && company != "":
		return "company:" + company
	case p != "":
		return "principal:" + p
	}
	return "addr:" + k.client(r)
}

// client returns the client's address masked to the prefix of its
// family, as a prefix ("2001:db8:1:2::/64"), or the remote address as it
// is when it is no IP address (an edge.Binding's "binding").
func (k keyer) client(r *http.Request) string {
	addr, ok := edge.ClientAddr(r, k.trust)
	if !ok {
		return r.RemoteAddr
	}
	bits := k.v6
	if addr.Is4() {
		bits = k.v4
	}
	p, _ := addr.Prefix(bits) // bits is within the family's size (checked by the options)
	return p.String()
}

// principalKey is the key of r's principal's share of its company's budget
// (WithPrincipalLimit), or "" when r has no principal or no company.
func principalKey(r *http.Request) string {
	ctx := r.Context()
	company, p := zone.CompanyFromContext(ctx), edge.PrincipalFromContext(ctx)
	if company == "" || p == "" {
		return ""
	}
	return "share:" + company + "|" + p
}

// WithIPv4Prefix sets how many leading bits of an anonymous client's IPv4
// address it is counted under (New, NewKeyFunc): 24 puts a /24 in one
// bucket. The default is DefaultIPv4Prefix; zero means the default;
// anything outside [0, 32] is an error.
func WithIPv4Prefix(bits int) PrefixOption {
	return PrefixOption{option{"WithIPv4Prefix", prefixBits(bits, 32, DefaultIPv4Prefix, func(c *config, b int) { c.keyer.v4 = b })}}
}

// WithIPv6Prefix sets how many leading bits of an anonymous client's IPv6
// address it is counted under (New, NewKeyFunc): 48 puts a site's /48 in
// one bucket. The default is DefaultIPv6Prefix; zero means the default;
// anything outside [0, 128] is an error. Above 64 a single host, which
// usually holds a whole /64, can spread over many buckets.
func WithIPv6Prefix(bits int) PrefixOption {
	return PrefixOption{option{"WithIPv6Prefix", prefixBits(bits, 128, DefaultIPv6Prefix, func(c *config, b int) { c.keyer.v6 = b })}}
}

func prefixBits(bits, size, def int, set func(*config, int)) func(*config) error {
	return func(c *config) error {
		if bits < 0 || bits > size {
			return fmt.Errorf("prefix length %d is outside [0, %d]", bits, size)
		}
		if bits == 0 {
			bits = def
		}
		set(c, bits)
		c.keyerSet = true
		return nil
	}
}

// WithTrust sets which requests arrive from a trusted hop, such as
// edge.TrustBinding behind a router that forwards through an edge.Binding
// (New, NewKeyFunc). For those, an anonymous client's address is the last
// X-Forwarded-For entry, the one that hop's edge.Proxy appended; for every
// other request it is r.RemoteAddr and forwarding headers are ignored, as
// anyone can write them. The default (also for nil) trusts nothing.
func WithTrust(t edge.Trust) TrustOption {
	return TrustOption{option{"WithTrust", func(c *config) error {
		if t != nil {
			c.keyer.trust = t
		}
		c.keyerSet = true
		return nil
	}}}
}
