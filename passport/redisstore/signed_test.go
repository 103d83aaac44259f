package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/redissub"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
)

var noticeKey = bytes.Repeat([]byte("k"), 32)

// Whoever can PUBLISH on the Redis forges notices: with a notice key, a
// forged {"all":true} or company revocation, one signed with another key,
// a captured signed notice replayed, and one stamped too long ago are all
// dropped and counted, and gateway B keeps its cache (no mint); genuine
// signed notices still cross.
func TestForgedNoticesDropped(t *testing.T) {
	srv := redistest.Start(t)
	clk := fakeclock.New(time.Now())
	id := "signed:" + passport.NewSessionID() + ":"
	channel := id + "revocations"
	opts := []redisstore.StoreOption{redisstore.WithKeyPrefix(id), redisstore.WithNoticeKey(noticeKey, time.Minute), redisstore.WithClock(clk.Now)}
	a := newStore(t, newClient(t, srv), opts...)
	bStore := newStore(t, newClient(t, srv), opts...)
	b := newWatcher(t, bStore, a, newIssuer(t), clk)
	in := subscribe(t, bStore)
	in.wait(t, 20*time.Second, isAll)
	alice, _ := login(t, a, "alice")
	if c := code(b.do(alice)); c != "ok" {
		t.Fatal(c)
	}

	// A genuine signed notice, captured by an eavesdropper.
	raw := newClient(t, srv)
	spy := raw.Subscribe(context.Background(), channel)
	t.Cleanup(func() { spy.Close() })
	if _, err := spy.Receive(context.Background()); err != nil { // the confirmation
		t.Fatal(err)
	}
	if err := a.RevokeUser(context.Background(), "mallory"); err != nil {
		t.Fatal(err)
	}
	captured, err := spy.ReceiveMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in.wait(t, 20*time.Second, func(r passport.Revocation) bool { return r.User == "mallory" })

	forged := []string{
		`{"all":true}`,
		`{"origin":"x","company":"42"}`,
		redissub.Seal(bytes.Repeat([]byte("x"), 32), channel, clk.Now(), `{"origin":"x","company":"42"}`),
		captured.Payload,
		redissub.Seal(noticeKey, channel, clk.Now().Add(-2*time.Minute), `{"origin":"x","company":"42"}`),
	}
	for _, p := range forged {
		if err := raw.Publish(context.Background(), channel, p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A genuine notice published after them arrives after them.
	if err := a.RevokeUser(context.Background(), "marker"); err != nil {
		t.Fatal(err)
	}
	in.wait(t, 20*time.Second, func(r passport.Revocation) bool { return r.User == "marker" })

	want := redisstore.NoticeStats{Delivered: 2, Unsigned: 2, Forged: 1, Replayed: 2}
	if got := bStore.NoticeStats(); got != want {
		t.Errorf("NoticeStats = %+v, want %+v", got, want)
	}
	if c := code(b.do(alice)); c != "ok" || b.mints.Load() != 1 {
		t.Fatalf("after the forged notices: %s, %d mints; want the cached passport (1 mint)", c, b.mints.Load())
	}
}

// What a flood of forged notices costs: each one that a gateway accepts
// drops its whole cache, so every session mints again. Without a key a
// forged company revocation is accepted (a forged {"all":true} never: no
// Store publishes one); with a key none is.
func TestForgedNoticeFloodCost(t *testing.T) {
	const sessions, notices = 20, 10
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("key=%v", keyed), func(t *testing.T) {
			srv := redistest.Start(t)
			clk := fakeclock.New(time.Now())
			id := "flood:" + passport.NewSessionID() + ":"
			opts := []redisstore.StoreOption{redisstore.WithKeyPrefix(id), redisstore.WithClock(clk.Now)}
			if keyed {
				opts = append(opts, redisstore.WithNoticeKey(noticeKey, 0))
			}
			a := newStore(t, newClient(t, srv), opts...)
			bStore := newStore(t, newClient(t, srv), opts...)
			b := newWatcher(t, bStore, a, newIssuer(t), clk)
			in := subscribe(t, bStore)
			in.wait(t, 20*time.Second, isAll)
			tokens := make([]string, sessions)
			for i := range tokens {
				tokens[i], _ = login(t, a, fmt.Sprintf("u-%d", i))
				if c := code(b.do(tokens[i])); c != "ok" {
					t.Fatal(c)
				}
			}
			raw := newClient(t, srv)
			before := b.mints.Load()
			for i := range notices {
				for _, p := range []string{`{"all":true}`, `{"origin":"x","company":"42"}`} {
					if err := raw.Publish(context.Background(), id+"revocations", p).Err(); err != nil {
						t.Fatal(err)
					}
				}
				marker := fmt.Sprintf("marker-%d", i)
				if err := a.RevokeUser(context.Background(), marker); err != nil {
					t.Fatal(err)
				}
				in.wait(t, 20*time.Second, func(r passport.Revocation) bool { return r.User == marker })
				for _, tok := range tokens {
					if c := code(b.do(tok)); c != "ok" {
						t.Fatal(c)
					}
				}
			}
			mints := b.mints.Load() - before
			t.Logf("%d forged all+company notice pairs, %d sessions: %d mints (%.1f per session per notice), stats %+v",
				notices, sessions, mints, float64(mints)/sessions/notices, bStore.NoticeStats())
			if want := int64(0); keyed && mints != want {
				t.Errorf("with a key: %d mints, want %d", mints, want)
			}
			if want := int64(sessions * notices); !keyed && mints != want {
				t.Errorf("without a key: %d mints, want %d (one per session per accepted notice)", mints, want)
			}
		})
	}
}
