package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
)

// Index sets hold only sessions not yet forgotten and expire with their
// last member, so nothing grows forever; session keys carry their TTL.
func TestIndexesExpireWithTheirSessions(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv)
	clk := fakeclock.New(time.Now())
	st := newStore(t, client, redisstore.WithKeyPrefix("ix:"), redisstore.WithClock(clk.Now), redisstore.WithRetention(time.Minute))
	ctx := context.Background()
	put := func(life time.Duration) string {
		now := clk.Now()
		key := passport.TokenKey(passport.NewToken())
		s := passport.Session{ID: passport.NewSessionID(), User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(life)}
		if err := st.Put(ctx, key, s); err != nil {
			t.Fatal(err)
		}
		return key
	}
	put(time.Minute)
	put(time.Minute)
	if n := client.ZCard(ctx, "ix:user:u-1").Val(); n != 2 {
		t.Fatalf("user index: %d members, want 2", n)
	}
	ttl := client.PTTL(ctx, "ix:company:42").Val()
	if ttl <= time.Minute || ttl > 2*time.Minute {
		t.Fatalf("company index TTL %v, want the last session's expiry plus retention", ttl)
	}
	// Both sessions are forgotten (expiry + retention) by the next Put.
	clk.Advance(3 * time.Minute)
	key := put(time.Hour)
	if n := client.ZCard(ctx, "ix:user:u-1").Val(); n != 1 {
		t.Fatalf("user index after trimming: %d members, want 1", n)
	}
	if ttl := client.PTTL(ctx, "ix:session:"+key).Val(); ttl < time.Hour {
		t.Fatalf("session TTL %v, want its life plus retention", ttl)
	}
	if n := client.ZCard(ctx, "ix:company:42").Val(); n != 1 {
		t.Fatalf("company index after trimming: %d members, want 1", n)
	}
}

// A script the server forgot (a restart, a failover to a replica that
// never loaded it) is sent again.
func TestScriptFlushed(t *testing.T) {
	srv := redistest.Start(t)
	client := newClient(t, srv)
	st := newStore(t, client)
	now := time.Now()
	s := passport.Session{ID: "s-1", User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	key := passport.TokenKey(passport.NewToken())
	ctx := context.Background()
	if err := st.Put(ctx, key, s); err != nil {
		t.Fatal(err)
	}
	client.ScriptFlush(ctx)
	if err := st.Put(ctx, key, s); err != nil {
		t.Fatal(err)
	}
	client.ScriptFlush(ctx)
	if err := st.RevokeCompany(ctx, "42"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, key); err != nil || !got.IsRevoked() {
		t.Fatalf("Get = %+v, %v; want revoked", got, err)
	}
}

// BenchmarkGet is a session read through Redis on loopback: one HMGET
// round trip and a JSON decode.
func BenchmarkGet(b *testing.B) {
	srv := redistest.Start(b)
	st := newStore(b, newClient(b, srv))
	now := time.Now()
	key := passport.TokenKey(passport.NewToken())
	s := passport.Session{ID: "s-1", User: "u-1", Companies: []string{"42", "43"}, Created: now, Expires: now.Add(time.Hour)}
	ctx := context.Background()
	if err := st.Put(ctx, key, s); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Get(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := st.Get(ctx, key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkPut stores a session with two companies: four index scripts
// pipelined, then the session script.
func BenchmarkPut(b *testing.B) {
	srv := redistest.Start(b)
	st := newStore(b, newClient(b, srv))
	now := time.Now()
	s := passport.Session{ID: "s-1", User: "u-1", Companies: []string{"42", "43"}, Created: now, Expires: now.Add(time.Hour)}
	key := passport.TokenKey(passport.NewToken())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Put(ctx, key, s); err != nil {
			b.Fatal(err)
		}
	}
}

// A company with more sessions than one batch is revoked whole.
func TestRevokeCompanyPages(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, newClient(t, srv))
	ctx := context.Background()
	now := time.Now()
	keys := make([]string, 1100)
	for i := range keys {
		keys[i] = passport.TokenKey(passport.NewToken())
		s := passport.Session{ID: passport.NewSessionID(), User: "u-" + strconv.Itoa(i), Companies: []string{"big"}, Created: now, Expires: now.Add(time.Hour)}
		if err := st.Put(ctx, keys[i], s); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := st.RevokeCompany(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	t.Logf("revoked a company of %d sessions in %v", len(keys), time.Since(start))
	for _, k := range keys {
		if s, err := st.Get(ctx, k); err != nil || !s.IsRevoked() {
			t.Fatalf("Get = %v, %v; want revoked", s.IsRevoked(), err)
		}
	}
}
