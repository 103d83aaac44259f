package geofence_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// bigDatabase is one database of n networks per test binary, built on
// first use (a 500k-network build takes seconds).
var bigDatabase = struct {
	sync.Mutex
	dir   string
	paths map[int]string
	addrs map[int][]netip.Addr
}{paths: map[int]string{}, addrs: map[int][]netip.Addr{}}

func databaseOf(tb testing.TB, n int) (string, []netip.Addr) {
	tb.Helper()
	bigDatabase.Lock()
	defer bigDatabase.Unlock()
	if p, ok := bigDatabase.paths[n]; ok {
		return p, bigDatabase.addrs[n]
	}
	if bigDatabase.dir == "" {
		dir, err := os.MkdirTemp("", "geofence-bench-")
		require.NoError(tb, err)
		bigDatabase.dir = dir
	}
	networks, addrs := manyNetworks(n)
	path := filepath.Join(bigDatabase.dir, "big.mmdb")
	writeDatabase(tb, path, networks)
	final := filepath.Join(bigDatabase.dir, "big-"+itoa(n)+".mmdb")
	require.NoError(tb, os.Rename(path, final))
	bigDatabase.paths[n], bigDatabase.addrs[n] = final, addrs
	return final, addrs
}

func itoa(n int) string {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDatabase.dir != "" {
		os.RemoveAll(bigDatabase.dir)
	}
	os.Exit(code)
}

// scopeKey stands for the middlewares in front of the fence (edge.RequestID,
// zone.DetectCompany) that attach values to the request: the first one
// installs the request's scope, so the fence's own Attach allocates nothing.
var scopeKey = edge.NewKey[string]("bench.scope")

// fenceOver returns a fence over a database of n networks for company 3,
// which admits half of the database's countries, and requests from clients
// spread over the database that it admits and that it refuses.
func fenceOver(tb testing.TB, n int) (h http.Handler, admitted, refused []*http.Request) {
	tb.Helper()
	path, addrs := databaseOf(tb, n)
	db, err := geofence.OpenDatabase(path)
	require.NoError(tb, err)
	var allow []string
	for i := 0; i < 25; i += 2 {
		for j := 0; j < 10; j++ {
			allow = append(allow, string([]byte{byte('A' + i), byte('A' + j)}))
		}
	}
	policies, err := geofence.NewStaticPolicies(map[string]geofence.PolicyConfig{"3": {
		AllowCountries: allow, DenyNetworks: []string{"10.0.0.0/8", "2001:db8::/32"}, AllowNetworks: []string{"192.0.2.0/24"},
	}})
	require.NoError(tb, err)
	fence, err := geofence.NewFence(policies, geofence.WithDatabase(db))
	require.NoError(tb, err)
	h = fence.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := 0; len(admitted) < 1024 || len(refused) < 1024; i++ {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.RemoteAddr = netip.AddrPortFrom(addrs[(i*7919)%len(addrs)], 4000).String()
		r.Header.Set("User-Agent", "bench")
		r = r.WithContext(zone.ContextWithCompany(r.Context(), "3"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, scopeKey.Attach(r, "in front"))
		if w.Code == http.StatusOK {
			admitted = append(admitted, r)
		} else {
			refused = append(refused, r)
		}
	}
	return h, admitted, refused
}

// The policy's cost per admitted request: the fence's middleware on
// requests of a company with a country and network policy, each client
// located in a 500k-network database.
func BenchmarkFence500kAdmitted(b *testing.B) {
	h, admitted, _ := fenceOver(b, 500_000)
	benchFence(b, h, admitted)
}

// A refusal costs more: it writes a problem.
func BenchmarkFence500kRefused(b *testing.B) {
	h, _, refused := fenceOver(b, 500_000)
	benchFence(b, h, refused)
}

// benchFence serves each of reqs in turn, each time in a request scope of
// its own (as a middleware in front installs one per request): subtract
// BenchmarkRequestScope, the scope's own cost.
func benchFence(b *testing.B, h http.Handler, reqs []*http.Request) {
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		h.ServeHTTP(w, scopeKey.Attach(reqs[i%len(reqs)], "in front"))
		w.Body.Reset()
	}
}

// BenchmarkRequestScope is benchFence's overhead: a request scope per
// request and a handler that does nothing.
func BenchmarkRequestScope(b *testing.B) {
	_, admitted, _ := fenceOver(b, 20_000)
	benchFence(b, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), admitted)
}

// The database lookup alone, clients spread over the whole database (the
// worst case for the CPU's caches).
func BenchmarkDatabaseCountry500k(b *testing.B) {
	path, addrs := databaseOf(b, 500_000)
	db, err := geofence.OpenDatabase(path)
	require.NoError(b, err)
	for _, a := range addrs[:4096] {
		db.Country(a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		db.Country(addrs[(i*7919)%len(addrs)])
	}
}

// An admitted request allocates nothing once the database's records are
// cached and a middleware in front installed the request's scope.
func TestFenceHotPathAllocatesNothing(t *testing.T) {
	h, admitted, _ := fenceOver(t, 20_000)
	w := httptest.NewRecorder()
	i := 0
	reqs := make([]*http.Request, 1001)
	for j := range reqs {
		reqs[j] = scopeKey.Attach(admitted[j%len(admitted)], "in front")
	}
	allocs := testing.AllocsPerRun(1000, func() {
		h.ServeHTTP(w, reqs[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per admitted request, want 0", allocs)
	}
}
