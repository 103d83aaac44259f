package geofence_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/stretchr/testify/require"
)

// network is one row of a test database: a prefix and its country.
type network struct {
	prefix  string
	country string
}

// writeDatabase builds a GeoIP2-Country-shaped MaxMind database of
// networks with mmdbwriter and puts it at path as a database update does:
// written beside it, then renamed over it.
func writeDatabase(t testing.TB, path string, networks []network) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-Country",
		Description:             map[string]string{"en": "cellgate test countries"},
		Languages:               []string{"en"},
		RecordSize:              24,   // as GeoLite2 Country
		IncludeReservedNetworks: true, // the documentation ranges of the tests
	})
	require.NoError(t, err)
	records := map[string]mmdbtype.Map{}
	for _, n := range networks {
		_, ipnet, err := net.ParseCIDR(n.prefix)
		require.NoError(t, err)
		rec, ok := records[n.country]
		if !ok {
			rec = mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(n.country)}}
			records[n.country] = rec
		}
		require.NoError(t, tree.Insert(ipnet, rec))
	}
	replaceFile(t, path, func(f *os.File) error { _, err := tree.WriteTo(f); return err })
}

// replaceFile writes a new file with write and renames it over path.
func replaceFile(t testing.TB, path string, write func(*os.File) error) {
	t.Helper()
	f, err := os.CreateTemp(filepath.Dir(path), "mmdb-*")
	require.NoError(t, err)
	require.NoError(t, write(f))
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(f.Name(), path))
}

// manyNetworks returns n networks, four in five IPv4 /24s and one in five
// IPv6 /48s, over 250 countries, and an address in each.
func manyNetworks(n int) ([]network, []netip.Addr) {
	networks := make([]network, 0, n)
	addrs := make([]netip.Addr, 0, n)
	for i := range n {
		country := string([]byte{byte('A' + i%25), byte('A' + (i/25)%10)})
		if i%5 == 4 {
			a := netip.AddrFrom16([16]byte{0x2a, 0x00, byte(i >> 16), byte(i >> 8), byte(i), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})
			networks = append(networks, network{netip.PrefixFrom(a, 48).Masked().String(), country})
			addrs = append(addrs, a)
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(11 + i>>16), byte(i >> 8), byte(i), 9})
		networks = append(networks, network{netip.PrefixFrom(a, 24).Masked().String(), country})
		addrs = append(addrs, a)
	}
	return networks, addrs
}
