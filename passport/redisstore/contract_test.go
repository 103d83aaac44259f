package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/internal/testrig/storetest"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// The Store contract (internal/testrig/storetest, also run against the memory
// store) on a single node and on a 3-master/3-replica Cluster.
//
// The contract checks what the store keeps and finds, not how fast: its
// timeouts only catch a hang, so they are long enough for a loaded machine
// under -race (40 concurrent Puts on six redis-servers took over the
// default second there).
func TestContract(t *testing.T) {
	contract := func(client redis.UniversalClient, opts ...redisstore.StoreOption) storetest.NewStore {
		return func(t *testing.T, now func() time.Time) passport.Store {
			return newStore(t, client, append(opts, redisstore.WithClock(now), redisstore.WithRetention(storetest.Retention))...)
		}
	}
	t.Run("SingleNode", func(t *testing.T) {
		t.Parallel()
		c := redis.NewClient(contractOptions(redistest.Start(t).Addr()).Simple())
		t.Cleanup(func() { c.Close() })
		storetest.Run(t, contract(c, redisstore.WithTimeout(testwait.Scale(10*time.Second))))
	})
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, contract(newPatientClusterClient(t, redistest.StartCluster(t, time.Second)), patient()...))
	})
}

// contractOptions are clientOptions with the socket and pool timeouts of a
// loaded machine: they catch a hang, and nothing slower.
func contractOptions(addrs ...string) *redis.UniversalOptions {
	o := clientOptions(addrs...)
	o.DialTimeout = testwait.Scale(2 * time.Second)
	o.ReadTimeout = testwait.Scale(5 * time.Second)
	o.WriteTimeout = testwait.Scale(5 * time.Second)
	o.PoolTimeout = testwait.Scale(5 * time.Second)
	return o
}

// The contract through Sentinel (a failover client), and a failover: the
// replica is promoted, and the Store keeps working through the same client.
func TestSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	o := contractOptions() // ReadTimeout above the WAIT timeout
	o.MasterName, o.Addrs = s.Name, []string{s.Sentinel.Addr()}
	o.ReadTimeout = testwait.Scale(5 * time.Second) // above the WAIT timeout
	client := redis.NewUniversalClient(o)
	t.Cleanup(func() { client.Close() })
	storetest.Run(t, func(t *testing.T, now func() time.Time) passport.Store {
		return newStore(t, client, append(patient(), redisstore.WithClock(now), redisstore.WithRetention(storetest.Retention))...)
	})

	st := newStore(t, client, redisstore.WithWaitReplicas(1, time.Second), redisstore.WithTimeout(3*time.Second))
	key := passport.TokenKey(passport.NewToken())
	now := time.Now()
	sess := passport.Session{ID: "s-1", User: "u-1", Created: now, Expires: now.Add(time.Hour)}
	if err := st.Put(context.Background(), key, sess); err != nil {
		t.Fatal(err)
	}
	s.Master.Kill()
	killed := time.Now()
	waitFor(t, testwait.Scale(30*time.Second), func() bool {
		_, err := st.Get(context.Background(), key)
		return err == nil
	})
	t.Logf("Sentinel failover: the session readable again %v after the master was killed", time.Since(killed))
}

// A Sentinel client waits for a replica by default: with the replica cut
// off, a revocation fails (ErrNotReplicated) instead of being acknowledged
// on the master alone, which a failover would undo.
func TestSentinelWaitsForAReplicaByDefault(t *testing.T) {
	s := redistest.StartSentinel(t)
	o := clientOptions()
	o.MasterName, o.Addrs = s.Name, []string{s.Sentinel.Addr()}
	o.ReadTimeout = 3 * time.Second
	client := redis.NewUniversalClient(o)
	t.Cleanup(func() { client.Close() })
	prefix := redisstore.WithKeyPrefix("sentinel-default:")
	key := passport.TokenKey(passport.NewToken())
	now := time.Now()
	sess := passport.Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	ctx := context.Background()
	if err := newStore(t, client, append(patient(), prefix)...).Put(ctx, key, sess); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, client, prefix, redisstore.WithTimeout(3*time.Second))
	in := subscribe(t, st)
	cutReplicas(t, s.Master)
	for name, revoke := range map[string]struct {
		do   func() error
		told func(passport.Revocation) bool
	}{
		"Revoke":        {func() error { return st.Revoke(ctx, sess.ID) }, func(r passport.Revocation) bool { return r.SessionID == sess.ID }},
		"RevokeUser":    {func() error { return st.RevokeUser(ctx, sess.User) }, func(r passport.Revocation) bool { return r.User == sess.User }},
		"RevokeCompany": {func() error { return st.RevokeCompany(ctx, "42") }, func(r passport.Revocation) bool { return r.Company == "42" }},
	} {
		if err := revoke.do(); !errors.Is(err, redisstore.ErrNotReplicated) {
			t.Errorf("%s with the replica cut off = %v, want ErrNotReplicated", name, err)
		}
		// The master has the mark: caches are told to drop what it covers.
		in.wait(t, 5*time.Second, revoke.told)
	}
}
