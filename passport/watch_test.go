package passport

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthStore is a MemoryStore whose notice path can be declared stale,
// as a shared store's is when its subscription is cut off.
type healthStore struct {
	*MemoryStore
	stale atomic.Bool
}

func (h *healthStore) NoticesFresh() bool { return !h.stale.Load() }

// A gateway that watches a store with a notice path trusts its cache only
// while the path is fresh: stale, every request asks the authentication
// service, which refuses a revoked session although this gateway never
// heard of the revocation. Fresh again, the cache serves again.
func TestGatewayWatchTrustsCacheOnlyWhileNoticesFresh(t *testing.T) {
	f := newFixture(t)
	hs := &healthStore{MemoryStore: f.store}
	t.Cleanup(f.gw.Watch(hs))
	alice, as := f.login(t, "alice", "42")
	bob, _ := f.login(t, "bob", "42")
	require.Equal(t, http.StatusOK, f.do(alice, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(alice, "42", false).Code)
	require.EqualValues(t, 2, f.authCalls.Load(), "fresh: served from the cache")

	hs.stale.Store(true)
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	require.EqualValues(t, 4, f.authCalls.Load(), "stale: every request asks")
	// Revoked behind the gateway's back: no notice reaches it.
	s, err := f.store.Get(context.Background(), TokenKey(alice))
	require.NoError(t, err)
	s.Revoked = f.clk.Now()
	require.NoError(t, f.store.Put(context.Background(), TokenKey(alice), s))
	w := f.do(alice, "42", false)
	assert.Equal(t, "session_revoked", problemCode(t, w), "session %s", as.ID)

	hs.stale.Store(false)
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	calls := f.authCalls.Load()
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	assert.Equal(t, calls, f.authCalls.Load(), "fresh again: served from the cache")
}

// Watch of a store without a notice path (the memory store) is Subscribe:
// the cache is always trusted, and revocations reach it.
func TestGatewayWatchMemoryStore(t *testing.T) {
	f := newFixture(t)
	t.Cleanup(f.gw.Watch(f.store))
	alice, as := f.login(t, "alice", "42")
	require.Equal(t, http.StatusOK, f.do(alice, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(alice, "42", false).Code)
	require.EqualValues(t, 1, f.authCalls.Load())
	require.NoError(t, f.store.Revoke(context.Background(), as.ID))
	assert.Equal(t, "session_revoked", problemCode(t, f.do(alice, "42", false)))
}

// cancel of Watch stops consulting the store's notice health.
func TestGatewayWatchCancel(t *testing.T) {
	f := newFixture(t)
	hs := &healthStore{MemoryStore: f.store}
	cancel := f.gw.Watch(hs)
	hs.stale.Store(true)
	bob, _ := f.login(t, "bob", "42")
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	require.EqualValues(t, 2, f.authCalls.Load())
	cancel()
	require.Equal(t, http.StatusOK, f.do(bob, "42", false).Code)
	assert.EqualValues(t, 2, f.authCalls.Load(), "no longer watched: the cache is trusted")
}
