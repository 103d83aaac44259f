package upload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// The allow-list of WithStorageHosts is checked by name; a name is only as
// good as what it resolves to. An allowed name that resolves (or rebinds)
// to 127.0.0.1, 169.254.169.254 or a cluster address would deliver the
// PUT, and the upload's bytes, there. So the storage transport checks the
// address it actually connects to, in the dialer's Control hook: after
// resolution, before the connection is made, for every address tried.

// errAddressRefused is the cause of a storage dial refused by the address
// check.
var errAddressRefused = errors.New("upload: storage address not allowed")

// specialPrefixes are the address ranges a storage host may not resolve to
// unless WithStorageAddresses (or an IP literal of WithStorageHosts) lists
// them: this host, private and shared networks, link-local (where cloud
// metadata services answer), documentation, benchmarking and reserved
// ranges, multicast, and the IPv6 ranges that embed or translate an IPv4
// address (NAT64, 6to4, Teredo), through which an internal IPv4 address
// could be reached. IPv4-mapped IPv6 addresses are checked as IPv4.
var specialPrefixes = func() []netip.Prefix {
	ranges := []string{
		"0.0.0.0/8",       // "this network", includes the unspecified address
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // shared address space (CGNAT); 100.100.100.200 is a metadata service
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local; 169.254.169.254 is the cloud metadata service
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, includes the broadcast address
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b::/96",    // NAT64
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments, includes Teredo 2001::/32
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // SRv6 SIDs
		"fc00::/7",        // unique local; fd00:ec2::254 is the AWS metadata service
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	}
	ps := make([]netip.Prefix, len(ranges))
	for i, r := range ranges {
		ps[i] = netip.MustParsePrefix(r)
	}
	return ps
}()

// special reports whether ip is in one of specialPrefixes.
func special(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range specialPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addressPolicy decides which addresses the storage transport may connect
// to: any public address, and special ones only when listed.
type addressPolicy struct {
	listed []netip.Prefix // WithStorageAddresses, and the IP literals of WithStorageHosts
}

// newAddressPolicy builds the policy of NewClient's storage hosts and
// addresses. Both are already validated.
func newAddressPolicy(hosts storageHosts, addresses []string) addressPolicy {
	var p addressPolicy
	for _, h := range hosts {
		if h.ip.IsValid() {
			ip := h.ip.Unmap()
			p.listed = append(p.listed, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	for _, a := range addresses {
		pr, _ := parseStorageAddress(a)
		p.listed = append(p.listed, pr)
	}
	return p
}

// parseStorageAddress parses a WithStorageAddresses entry: an address or
// a prefix in CIDR notation, without a zone.
func parseStorageAddress(s string) (netip.Prefix, error) {
	if pr, err := netip.ParsePrefix(s); err == nil {
		if pr.Addr().Zone() != "" {
			return netip.Prefix{}, errors.New("an IPv6 zone is not allowed")
		}
		if pr.Addr().Is4In6() {
			return netip.Prefix{}, errors.New("write an IPv4 prefix in IPv4 notation")
		}
		return pr.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, errors.New(`want an IP address ("10.1.2.3", "fd00::5") or a prefix ("10.0.0.0/8", "fd00::/8")`)
	}
	if ip.Zone() != "" {
		return netip.Prefix{}, errors.New("an IPv6 zone is not allowed")
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// allows reports whether the storage transport may connect to ip.
func (p addressPolicy) allows(ip netip.Addr) bool {
	// A scoped address is link-local or multicast (special); listed
	// prefixes carry no zone.
	ip = ip.Unmap().WithZone("")
	if !special(ip) {
		return true
	}
	for _, pr := range p.listed {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

// control is the net.Dialer ControlContext of the storage transport: it
// sees each resolved address just before the connection is made, so what is
// checked is what is dialled.
func (p addressPolicy) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s address %q does not parse", errAddressRefused, network, address)
	}
	if !p.allows(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address and WithStorageAddresses does not list it", errAddressRefused, ap.Addr())
	}
	return nil
}

// dialer returns the dialer of the storage transport: edge.NewTransport's
// bounds, with the address check.
func (p addressPolicy) dialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, ControlContext: p.control}
}

// DialContext connects to address as the storage transport of a Handler
// does: only to public addresses, and to the private, loopback,
// link-local and other special addresses that WithStorageHosts names as IP
// literals or WithStorageAddresses lists. Anything else fails, wrapping an
// error the Handler answers as 502 storage_target_refused. The check runs
// on each resolved address just before it is dialled (net.Dialer's
// ControlContext), so a name that resolves, or rebinds, to 127.0.0.1 or
// 169.254.169.254 never gets a connection.
//
// The Handler's default storage transport dials with it. Set it as the
// DialContext of an *http.Transport you pass to WithStorageTransport to
// keep the check there; see WithStorageTransport.
func (c *Client) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return c.dial.DialContext(ctx, network, address)
}

// NewStorageTransport returns the storage transport a Handler over c uses
// by default: edge.NewTransport() dialling through c.DialContext, over
// HTTP/1.1, whose connections copy a body that goes idle without holding a
// 32 KiB buffer (a pooled one is taken while bytes flow). Its TLS handshake
// uses TLSClientConfig (RootCAs, ...) as the transport would. Change its
// fields (ExpectContinueTimeout, MaxIdleConnsPerHost, TLSClientConfig, ...)
// and pass it to WithStorageTransport to tune it and keep the address
// check; a Proxy set on it moves the check to the proxy's address, and the
// proxy then decides where the PUT goes.
func NewStorageTransport(c *Client) *http.Transport {
	t := edge.NewTransport()
	t.DialContext = c.dialBurst
	t.DialTLSContext = c.dialTLSBurst(t)
	return t
}
