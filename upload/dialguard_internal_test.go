package upload

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddressPolicy(t *testing.T) {
	hosts, err := parseStorageHosts([]string{"*.s3.amazonaws.com", "http://127.0.0.1:9000", "http://[fd00::9]:9000"})
	require.NoError(t, err)
	p := newAddressPolicy(hosts, []string{"10.20.0.0/16", "192.168.7.7"})
	tests := []struct {
		addr string
		ok   bool
	}{
		{"52.216.1.2", true}, // S3
		{"2600:1f18::1", true},
		{"127.0.0.1", true},        // an IP literal of WithStorageHosts
		{"::ffff:127.0.0.1", true}, // the same, mapped
		{"127.0.0.2", false},       // only the address listed
		{"::1", false},             // loopback
		{"fd00::9", true},          // listed literal
		{"fd00::10", false},        // ULA
		{"fd00:ec2::254", false},   // AWS metadata over IPv6
		{"169.254.169.254", false}, // cloud metadata
		{"::ffff:169.254.169.254", false},
		{"fe80::1%eth0", false},
		{"100.100.100.200", false}, // shared address space (Alibaba metadata)
		{"10.20.3.4", true},        // listed prefix
		{"10.21.3.4", false},       // RFC 1918
		{"172.16.0.1", false},
		{"192.168.7.7", true}, // listed address
		{"192.168.7.8", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"2002:a9fe:a9fe::1", false},  // 6to4 of 169.254.169.254
	}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.addr)
		assert.Equal(t, tc.ok, p.allows(ip), tc.addr)
		err := p.control(context.Background(), "tcp", netip.AddrPortFrom(ip, 443).String(), nil)
		if tc.ok {
			assert.NoError(t, err, tc.addr)
		} else {
			assert.ErrorIs(t, err, errAddressRefused, tc.addr)
		}
	}
}

func TestParseStorageAddress(t *testing.T) {
	for _, ok := range []string{"10.0.0.0/8", "10.1.2.3", "fd00::/8", "fd00::5", "10.1.2.3/8"} {
		_, err := parseStorageAddress(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "minio.internal", "10.0.0.0/33", "fe80::1%eth0", "::ffff:10.0.0.0/104", "10.0.0.0/8/8"} {
		_, err := parseStorageAddress(bad)
		assert.Error(t, err, bad)
	}
}

// The check sees the address the resolver answered, at dial time: a name
// resolving to the metadata service is refused before any connection.
func TestStorageDialerChecksResolvedAddress(t *testing.T) {
	dns := newDNSAnswerer(t, map[string]netip.Addr{
		"bucket.storage.test.": netip.MustParseAddr("169.254.169.254"),
		"public.storage.test.": netip.MustParseAddr("127.0.0.1"), // loopback: special, listed below
	})
	hosts, err := parseStorageHosts([]string{"*.storage.test"})
	require.NoError(t, err)
	d := newAddressPolicy(hosts, []string{"127.0.0.1"}).dialer()
	d.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns)
	}}
	d.Timeout = time.Minute // catches a hang only: the answerer may be slow on a loaded machine

	// Refused before any connection: nothing is dialled at 169.254.169.254.
	_, err = d.DialContext(context.Background(), "tcp", "bucket.storage.test:80")
	require.ErrorIs(t, err, errAddressRefused)
	assert.Contains(t, err.Error(), "169.254.169.254")

	// The listed address passes the check and the dial goes through.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := d.DialContext(context.Background(), "tcp", "public.storage.test:"+port)
	require.NoError(t, err)
	c.Close()
}

// newDNSAnswerer serves A queries for names over UDP on 127.0.0.1 and
// returns its address: the least DNS a resolver needs.
func newDNSAnswerer(t *testing.T, names map[string]netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], names); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// dnsAnswer answers one query: an A record for a known name, no record
// otherwise (AAAA included).
func dnsAnswer(q []byte, names map[string]netip.Addr) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels up to the root, then type and class.
	i, name := 12, ""
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		name += string(q[i+1:i+1+l]) + "."
		i += 1 + l
	}
	i++ // the root label
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]
	resp := make([]byte, 12, 64)
	copy(resp, q[:2])                            // the id
	binary.BigEndian.PutUint16(resp[2:], 0x8180) // response, recursion desired and available
	binary.BigEndian.PutUint16(resp[4:], 1)      // one question
	resp = append(resp, question...)
	ip, ok := names[name]
	if !ok || qtype != 1 || !ip.Is4() {
		return resp // no answer
	}
	binary.BigEndian.PutUint16(resp[6:], 1) // one answer
	a := ip.As4()
	resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	return append(resp, a[:]...)
}
