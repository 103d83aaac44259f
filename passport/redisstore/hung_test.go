package redisstore_test

import (
	"context"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// A hung Redis (SIGSTOP: connections open, nothing answered) with a client
// left at go-redis's defaults (no ContextTimeoutEnabled: the socket waits
// out ReadTimeout, 5 s, whatever the context says). Every operation still
// fails within WithTimeout. The bound asserted (2.5 s) is far above the
// 100 ms timeout, so only a hang fails it, and clearly below the 5 s a Get
// took before operations were bounded.
func TestHungRedisBoundedByTimeout(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()}) // defaults, on purpose
	t.Cleanup(func() { client.Close() })
	prefix := redisstore.WithKeyPrefix("hung:")
	st := newStore(t, client, prefix, redisstore.WithTimeout(100*time.Millisecond))
	now := time.Now()
	key := passport.TokenKey(passport.NewToken())
	s := passport.Session{ID: passport.NewSessionID(), User: "u-1", Companies: []string{"42"}, Created: now, Expires: now.Add(time.Hour)}
	ctx := context.Background()
	// Stored with a generous timeout: a loaded machine must not fail the set-up.
	if err := newStore(t, client, prefix, redisstore.WithTimeout(5*time.Second)).Put(ctx, key, s); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	for name, op := range map[string]func() error{
		"Get":           func() error { _, err := st.Get(ctx, key); return err },
		"Put":           func() error { return st.Put(ctx, key, s) },
		"Revoke":        func() error { return st.Revoke(ctx, s.ID) },
		"RevokeUser":    func() error { return st.RevokeUser(ctx, s.User) },
		"RevokeCompany": func() error { return st.RevokeCompany(ctx, "42") },
	} {
		start := time.Now()
		err := op()
		took := time.Since(start)
		t.Logf("%s with Redis hung: %v, %v", name, took, err)
		if err == nil {
			t.Errorf("%s succeeded with Redis hung", name)
		}
		if took > 2500*time.Millisecond {
			t.Errorf("%s took %v with Redis hung, want about the 100ms timeout", name, took)
		}
	}
	srv.Resume()
	var got passport.Session
	testwait.Until(t, 20*time.Second, "Get after Redis resumed", func() bool {
		var err error
		got, err = st.Get(ctx, key)
		return err == nil
	})
	if got.ID != s.ID {
		t.Fatalf("after Redis resumed: %+v", got)
	}
}
