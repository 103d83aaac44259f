package geofence_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

var (
	versionA = []network{
		{"192.0.2.0/24", "GB"}, {"198.51.100.0/24", "US"}, {"2001:db8:1::/48", "GB"}, {"2001:db8:2::/48", "FR"},
	}
	versionB = []network{ // 192.0.2.0/24 and 2001:db8:1::/48 moved to Ireland
		{"192.0.2.0/24", "IE"}, {"198.51.100.0/24", "US"}, {"2001:db8:1::/48", "IE"}, {"2001:db8:2::/48", "FR"},
	}
)

func TestDatabaseLocatesIPv4AndIPv6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country.mmdb")
	writeDatabase(t, path, versionA)
	db, err := geofence.OpenDatabase(path)
	require.NoError(t, err)
	for addr, want := range map[string]string{
		"192.0.2.77": "GB", "198.51.100.1": "US", "2001:db8:1::5": "GB", "2001:db8:2:ff::1": "FR",
		"::ffff:192.0.2.77": "GB", // an IPv4-mapped client is the IPv4 one
		"203.0.113.1":       "",   // not in the database
		"2001:db8:3::1":     "",
	} {
		got := db.Country(netip.MustParseAddr(addr))
		assert.Equal(t, want, got.String(), addr)
		assert.Equal(t, want != "", got.Known(), addr)
	}
	assert.False(t, db.Country(netip.Addr{}).Known(), "no address: unknown")
}

func TestOpenDatabaseRefusesACorruptFile(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty":   nil,
		"garbage": []byte("not a MaxMind database at all, not even close"),
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		_, err := geofence.OpenDatabase(path)
		assert.Error(t, err, name)
	}
	_, err := geofence.OpenDatabase(filepath.Join(dir, "missing"))
	assert.Error(t, err)
	_, err = geofence.OpenDatabase(filepath.Join(dir, "missing"), geofence.WithReloadInterval(-time.Second))
	assert.ErrorContains(t, err, "WithReloadInterval")
}

// corrupt is a copy of a valid database with its search tree overwritten,
// which opens but fails Verify.
func corrupt(t *testing.T, valid string) []byte {
	t.Helper()
	data, err := os.ReadFile(valid)
	require.NoError(t, err)
	for i := 0; i < 64 && i < len(data); i++ {
		data[i] = 0xff
	}
	return data
}

// While requests stream through a fence, the database file is replaced
// again and again, once with a corrupt file: no request fails or is
// refused, every answer comes from one whole version, and the corrupt file
// never replaces the good one. Run with -race.
func TestDatabaseReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "country.mmdb")
	writeDatabase(t, path, versionA)
	obs := &recorded{}
	db, err := geofence.OpenDatabase(path, geofence.WithObserver(obs))
	require.NoError(t, err)
	bPath := filepath.Join(dir, "b.mmdb")
	writeDatabase(t, bPath, versionB)
	bad := corrupt(t, bPath)

	policies, err := geofence.NewStaticPolicies(map[string]geofence.PolicyConfig{"3": {AllowCountries: []string{"GB", "IE"}}})
	require.NoError(t, err)
	fence, err := geofence.NewFence(policies, geofence.WithDatabase(db))
	require.NoError(t, err)
	var seen sync.Map // countries the cell saw
	h := edge.Chain(must.Build(zone.DetectCompany()), fence.Middleware)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := geofence.CountryFromContext(r.Context())
		seen.Store(c, true)
	}))

	var stop atomic.Bool
	var failed atomic.Int64
	var served atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := []string{"192.0.2.10:1000", "[2001:db8:1::10]:1000"}[i%2]
			for !stop.Load() {
				r := httptest.NewRequest(http.MethodGet, "/projects", nil)
				r.RemoteAddr = addr
				r.Header.Set(zone.DefaultCompanyHeader, "3")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					failed.Add(1)
				}
				served.Add(1)
			}
		}()
	}
	swap := func(networks []network) {
		t.Helper()
		writeDatabase(t, path, networks)
		replaced, err := db.Reload()
		require.NoError(t, err)
		require.True(t, replaced)
	}
	for i := range 20 {
		before := served.Load()
		if i%2 == 0 {
			swap(versionB)
		} else {
			swap(versionA)
		}
		if i == 10 {
			replaceFile(t, path, func(f *os.File) error { _, err := f.Write(bad); return err })
			replaced, err := db.Reload()
			assert.ErrorContains(t, err, "verify", "a corrupt file is refused")
			assert.False(t, replaced)
			replaced, err = db.Reload()
			assert.NoError(t, err, "the refused file is not tried again until it changes")
			assert.False(t, replaced)
			assert.Equal(t, "IE", db.Country(netip.MustParseAddr("192.0.2.1")).String(), "the old version (B, swapped in at i=10) stays")
		}
		testwait.Until(t, 10*time.Second, "requests between swaps", func() bool { return served.Load() > before+20 })
	}
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, failed.Load(), "no request failed while the file was swapped")
	_, gb := seen.Load("GB")
	_, ie := seen.Load("IE")
	assert.True(t, gb && ie, "both versions served")
	seen.Range(func(k, _ any) bool {
		assert.Contains(t, []string{"GB", "IE"}, k, "only whole versions")
		return true
	})
	assert.Contains(t, obs.all(), "/database_refused")
	assert.Contains(t, obs.all(), "/database_reloaded")
}

// Watch notices the file's change by itself.
func TestDatabaseWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "country.mmdb")
	writeDatabase(t, path, versionA)
	db, err := geofence.OpenDatabase(path, geofence.WithReloadInterval(10*time.Millisecond))
	require.NoError(t, err)
	stop := db.Watch()
	defer stop()
	addr := netip.MustParseAddr("2001:db8:1::1")
	require.Equal(t, "GB", db.Country(addr).String())
	writeDatabase(t, path, versionB)
	testwait.Until(t, 10*time.Second, "the watcher reloads", func() bool { return db.Country(addr).String() == "IE" })
	stop()
	stop() // twice is harmless
}
