package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
)

// A Cluster master is killed while sessions are being stored. Every
// session whose Put returned nil is still there after its replica took
// over (Put waits for one replica), and writes resume on their own. Logs
// how long writes were refused.
func TestClusterFailoverKeepsAcknowledgedSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("failover in -short")
	}
	// Two replicas per master, so the promoted replica still has one
	// replica to WAIT for.
	cluster := redistest.StartClusterReplicas(t, 500*time.Millisecond, 2)
	client := newClusterClient(t, cluster)
	st := newStore(t, client, redisstore.WithWaitReplicas(1, 200*time.Millisecond), redisstore.WithTimeout(time.Second))

	var (
		mu          sync.Mutex
		acked       []string
		firstFail   time.Time
		lastFail    time.Time
		failures    atomic.Int64
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		successions atomic.Int64
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				now := time.Now()
				key := passport.TokenKey(passport.NewToken())
				s := passport.Session{
					ID: passport.NewSessionID(), User: fmt.Sprintf("u-%d-%d", w, i), Companies: []string{fmt.Sprint(i % 50)},
					Created: now, Expires: now.Add(time.Hour),
				}
				err := st.Put(context.Background(), key, s)
				mu.Lock()
				if err == nil {
					acked = append(acked, key)
					successions.Add(1)
				} else {
					failures.Add(1)
					if firstFail.IsZero() {
						firstFail = time.Now()
					}
					lastFail = time.Now()
				}
				mu.Unlock()
			}
		})
	}
	waitFor(t, 10*time.Second, func() bool { return successions.Load() > 200 })
	mu.Lock()
	if !firstFail.IsZero() {
		t.Fatalf("writes failed before the kill")
	}
	mu.Unlock()
	victim := cluster.Masters()[0]
	killed := time.Now()
	victim.Kill()
	if err := cluster.WaitFailover(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("a replica took over, cluster_state ok on every live node %v after the kill", time.Since(killed))
	// Writes go on for a while on the new master.
	before := successions.Load()
	waitFor(t, 10*time.Second, func() bool { return successions.Load() > before+500 })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if !firstFail.IsZero() {
		t.Logf("failover gap: Puts failed from %v to %v after the kill (%d failed, %d acknowledged)",
			firstFail.Sub(killed), lastFail.Sub(killed), failures.Load(), len(acked))
	}
	for _, key := range acked {
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err = st.Get(context.Background(), key); err == nil || errors.Is(err, passport.ErrSessionUnknown) {
				break
			}
		}
		if err != nil {
			t.Fatalf("an acknowledged session after the failover: %v", err)
		}
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
	}
}
