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
	"github.com/cellgate/cellgate/internal/testwait"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
)

// A Cluster master is killed while sessions are being stored. Every
// session whose Put returned nil is still there after its replica took
// over (Put waits for one replica), and writes resume on their own. Logs
// how long writes were refused. It proves that no acknowledged write is
// lost, not that none is refused: a refused Put is the store failing
// closed, before the kill (a slow replica on a busy machine) or after.
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
	waitFor(t, testwait.Scale(30*time.Second), func() bool { return successions.Load() > 200 })
	// A Put may fail before the kill too: on a busy machine a replica can
	// take longer than the WAIT timeout to confirm, and Put then refuses to
	// acknowledge. That is the promise working (a write not confirmed is
	// not acknowledged), not a loss; what is checked below is that no
	// acknowledged write is lost.
	mu.Lock()
	failedBefore := failures.Load()
	firstFail, lastFail = time.Time{}, time.Time{}
	mu.Unlock()
	if failedBefore > 0 {
		t.Logf("%d Puts were refused before the kill (replica slower than the WAIT timeout)", failedBefore)
	}
	victim := cluster.Masters()[0]
	killed := time.Now()
	victim.Kill()
	if err := cluster.WaitFailover(testwait.Scale(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Logf("a replica took over, cluster_state ok on every live node %v after the kill", time.Since(killed))
	// Writes go on for a while on the new master.
	before := successions.Load()
	waitFor(t, testwait.Scale(30*time.Second), func() bool { return successions.Load() > before+500 })
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if !firstFail.IsZero() {
		t.Logf("failover gap: Puts failed from %v to %v after the kill (%d failed, %d acknowledged)",
			firstFail.Sub(killed), lastFail.Sub(killed), failures.Load()-failedBefore, len(acked))
	}
	for _, key := range acked {
		var err error
		for deadline := time.Now().Add(testwait.Scale(10 * time.Second)); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
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
