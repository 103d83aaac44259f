package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
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
	client := newPatientClusterClient(t, cluster)
	st := newStore(t, client, patient()...)

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
		testwait.Until(t, 10*time.Second, "an acknowledged session readable after the failover", func() bool {
			_, err = st.Get(context.Background(), key)
			return err == nil || errors.Is(err, passport.ErrSessionUnknown)
		})
		if err != nil {
			t.Fatalf("an acknowledged session after the failover: %v", err)
		}
	}
}

// waitFor polls cond until it holds or the timeout (scaled) passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	testwait.Until(t, timeout, "condition", cond)
}

// A revocation made while the session's master has no replica in step
// (its replica cut off from it: the revocation never reaches the replica)
// must not be acknowledged, or the master's death undoes it: the replica
// takes over without the revocation mark and the revoked session works
// again. So after the master is killed and its replica promoted, either
// Revoke failed, or the promoted replica has the mark. The store uses the
// defaults a Cluster client gets: no WithWaitReplicas.
func TestClusterFailoverKeepsAcknowledgedRevocations(t *testing.T) {
	if testing.Short() {
		t.Skip("failover in -short")
	}
	cluster := redistest.StartClusterReplicas(t, 500*time.Millisecond, 1)
	client := newPatientClusterClient(t, cluster)
	prefix := "t:" + passport.NewSessionID() + ":"
	st, err := redisstore.New(client, redisstore.WithKeyPrefix(prefix), redisstore.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	now := time.Now()
	key := passport.TokenKey(passport.NewToken())
	s := passport.Session{ID: passport.NewSessionID(), User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	// Stored by a patient store, so a slow replica cannot fail the set-up.
	if err := newStore(t, client, append(patient(), redisstore.WithKeyPrefix(prefix))...).Put(ctx, key, s); err != nil {
		t.Fatal(err)
	}

	// The session's master, and its replica once it has the session.
	node, err := client.MasterForKey(ctx, prefix+"session:"+key)
	if err != nil {
		t.Fatal(err)
	}
	var master *redistest.Server
	for _, n := range cluster.Nodes {
		if n.Addr() == node.Options().Addr {
			master = n
		}
	}
	if master == nil {
		t.Fatalf("no node at %s", node.Options().Addr)
	}
	waitFor(t, 10*time.Second, func() bool { return replicaInStep(t, master) })

	cutReplicas(t, master)

	// Revoked through the session storage API, as an internal system does.
	w := revokeThroughAPI(t, st, s.ID)
	t.Logf("POST /revoke/session with the replica cut off: %d %s", w.Code, w.Body)
	acknowledged := w.Code == http.StatusNoContent
	if !acknowledged && (w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":"session_store_unavailable"`)) {
		t.Fatalf("POST /revoke/session = %d %s, want 204 or 503 session_store_unavailable", w.Code, w.Body)
	}
	// And through the Store: the error says why.
	if err := st.Revoke(ctx, s.ID); acknowledged != (err == nil) || err != nil && !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Revoke = %v, after the API answered %d; want ErrNotReplicated for a 503", err, w.Code)
	}

	master.Kill()
	killed := time.Now()
	if err := cluster.WaitFailover(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Read through a fresh client, whose view of the cluster is the new
	// one, as a replica started after the failover would.
	after, err := redisstore.New(newPatientClusterClient(t, cluster), redisstore.WithKeyPrefix(prefix), redisstore.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { after.Close() })
	var got passport.Session
	testwait.Until(t, 20*time.Second, "Get after the failover", func() bool {
		got, err = after.Get(ctx, key)
		return err == nil
	})
	if acknowledged && !got.IsRevoked() {
		t.Fatal("the revocation was acknowledged (204), but the promoted replica serves the session as live: it was lost")
	}
	// The first client, idle through the failover, finds the new master
	// too: its failures make it reload its view of the cluster, instead of
	// waiting for go-redis's reload once a minute. The deadline only
	// catches that minute.
	waitFor(t, 30*time.Second, func() bool {
		_, err := st.Get(ctx, key)
		return err == nil
	})
	t.Logf("the client idle through the failover reads again %v after the kill", time.Since(killed))
}

// revokeThroughAPI revokes session id through the session storage API on
// st, with a signed call.
func revokeThroughAPI(t *testing.T, st passport.Store, id string) *httptest.ResponseRecorder {
	t.Helper()
	key := []byte("0123456789abcdef0123456789abcdef")
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := passport.NewStorageService(st, v)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := hmacsig.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signer.SignURL(http.MethodPost, "/revoke/session/"+id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	svc.ServeHTTP(w, httptest.NewRequest(http.MethodPost, signed, nil))
	return w
}

// cutReplicas cuts master's replicas off: the master refuses them the
// replication stream (its default user may no longer run PSYNC or SYNC),
// and their links are dropped, so they stay without anything written from
// now on. Clients, on the same default user, are not affected.
func cutReplicas(t testing.TB, master *redistest.Server) {
	t.Helper()
	mustCommand(t, master, "ACL", "SETUSER", "default", "-psync", "-sync")
	mustCommand(t, master, "CLIENT", "KILL", "TYPE", "replica")
	waitFor(t, 10*time.Second, func() bool {
		info := mustCommand(t, master, "INFO", "replication")
		return strings.Contains(info, "connected_slaves:0\r\n")
	})
}

// replicaInStep reports whether master's one replica is online and has
// everything the master wrote.
func replicaInStep(t testing.TB, master *redistest.Server) bool {
	info := mustCommand(t, master, "INFO", "replication")
	var offset, replicaOffset string
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
			offset = v
		}
		if v, ok := strings.CutPrefix(line, "slave0:"); ok && strings.Contains(v, "state=online") {
			for _, f := range strings.Split(v, ",") {
				if o, ok := strings.CutPrefix(f, "offset="); ok {
					replicaOffset = o
				}
			}
		}
	}
	return offset != "" && offset == replicaOffset
}

func mustCommand(t testing.TB, s *redistest.Server, args ...string) string {
	t.Helper()
	out, err := redistest.Command(s.Addr(), args...)
	if err != nil {
		t.Fatalf("%v on %s: %v", args, s.Addr(), err)
	}
	return out
}
