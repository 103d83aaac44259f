package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/passport"
)

// Retention is the retention every store under test must be built with.
const Retention = 10 * time.Minute

// NewStore returns an empty store whose expiry is checked against now and
// which remembers expired sessions for Retention.
type NewStore func(t *testing.T, now func() time.Time) passport.Store

// Run runs the contract against the stores newStore makes.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"PutGet", testPutGet},
		{"Unknown", testUnknown},
		{"RefusesBadInput", testRefusesBadInput},
		{"PutReplaces", testPutReplaces},
		{"SessionIDNamesOneSession", testSessionIDNamesOneSession},
		{"Revoke", testRevoke},
		{"RevokeUser", testRevokeUser},
		{"RevokeCompany", testRevokeCompany},
		{"RevokeUnknownNotifies", testRevokeUnknownNotifies},
		{"ExpiryAndRetention", testExpiryAndRetention},
		{"CancelledSubscriberHearsNothing", testCancel},
		{"RevokeCoversEveryEarlierPut", testRevokeCoversEarlierPuts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New(time.Now().Truncate(time.Millisecond))
			f := &fixture{clk: clk, store: newStore(t, clk.Now)}
			tt.fn(t, f)
		})
	}
}

type fixture struct {
	clk   *fakeclock.Clock
	store passport.Store
}

// session returns a new live session of user for companies, its token key
// and the session.
func (f *fixture) session(user string, companies ...string) (string, passport.Session) {
	now := f.clk.Now()
	return passport.TokenKey(passport.NewToken()), passport.Session{
		ID: passport.NewSessionID(), User: user, Companies: companies,
		Created: now, Expires: now.Add(time.Hour), Attrs: map[string]string{"ip": "10.0.0.1"},
	}
}

func (f *fixture) put(t *testing.T, user string, companies ...string) (string, passport.Session) {
	t.Helper()
	key, s := f.session(user, companies...)
	if err := f.store.Put(context.Background(), key, s); err != nil {
		t.Fatalf("Put: %v", err)
	}
	return key, s
}

func (f *fixture) get(t *testing.T, key string) passport.Session {
	t.Helper()
	s, err := f.store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return s
}

func (f *fixture) revoked(t *testing.T, key string) bool {
	t.Helper()
	return f.get(t, key).IsRevoked()
}

// listen collects the revocations delivered to a subscriber, leaving out
// the All notices a shared store sends when its subscription (re)starts.
func (f *fixture) listen(t *testing.T) *collector {
	c := &collector{}
	cancel := f.store.Subscribe(func(r passport.Revocation) {
		if r.All {
			return
		}
		c.mu.Lock()
		c.got = append(c.got, r)
		c.mu.Unlock()
	})
	t.Cleanup(cancel)
	c.cancel = cancel
	return c
}

type collector struct {
	mu     sync.Mutex
	got    []passport.Revocation
	cancel func()
}

func (c *collector) all() []passport.Revocation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]passport.Revocation(nil), c.got...)
}

func testPutGet(t *testing.T, f *fixture) {
	key, s := f.put(t, "u-1", "42", "43")
	got := f.get(t, key)
	if got.ID != s.ID || got.User != s.User || fmt.Sprint(got.Companies) != "[42 43]" ||
		!got.Created.Equal(s.Created) || !got.Expires.Equal(s.Expires) || got.IsRevoked() || got.Attrs["ip"] != "10.0.0.1" {
		t.Fatalf("Get = %+v, want %+v", got, s)
	}
	got.Companies[0] = "99"
	got.Attrs["ip"] = "x"
	if again := f.get(t, key); again.Companies[0] != "42" || again.Attrs["ip"] != "10.0.0.1" {
		t.Fatal("changing a returned session changed the store")
	}
}

func testUnknown(t *testing.T, f *fixture) {
	_, err := f.store.Get(context.Background(), passport.TokenKey(passport.NewToken()))
	if !errors.Is(err, passport.ErrSessionUnknown) {
		t.Fatalf("Get of an unknown key: %v, want ErrSessionUnknown", err)
	}
}

func testRefusesBadInput(t *testing.T, f *fixture) {
	key, s := f.session("u-1", "42")
	if err := f.store.Put(context.Background(), "not-a-token-key", s); err == nil {
		t.Fatal("Put accepted a key that is not a TokenKey")
	}
	bad := s
	bad.User = ""
	if err := f.store.Put(context.Background(), key, bad); err == nil {
		t.Fatal("Put accepted an invalid session")
	}
}

func testPutReplaces(t *testing.T, f *fixture) {
	key, s := f.put(t, "u-1", "42")
	s.Companies = []string{"43"}
	if err := f.store.Put(context.Background(), key, s); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, key); fmt.Sprint(got.Companies) != "[43]" {
		t.Fatalf("after replacing: %v", got.Companies)
	}
	// The replaced session no longer acts for 42: revoking 42 spares it.
	if err := f.store.RevokeCompany(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	if f.revoked(t, key) {
		t.Fatal("revoking a company the session no longer has revoked it")
	}
}

func testSessionIDNamesOneSession(t *testing.T, f *fixture) {
	oldKey, s := f.put(t, "u-1", "42")
	newKey := passport.TokenKey(passport.NewToken())
	if err := f.store.Put(context.Background(), newKey, s); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Get(context.Background(), oldKey); !errors.Is(err, passport.ErrSessionUnknown) {
		t.Fatalf("the old key of a re-stored session ID: %v, want ErrSessionUnknown", err)
	}
	if err := f.store.Revoke(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if !f.revoked(t, newKey) {
		t.Fatal("Revoke by ID missed the session's new key")
	}
}

func testRevoke(t *testing.T, f *fixture) {
	c := f.listen(t)
	key, s := f.put(t, "u-1", "42")
	other, _ := f.put(t, "u-1", "42")
	if err := f.store.Revoke(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if !f.revoked(t, key) || f.revoked(t, other) {
		t.Fatal("Revoke revoked the wrong sessions")
	}
	if got := c.all(); len(got) != 1 || got[0] != (passport.Revocation{SessionID: s.ID}) {
		t.Fatalf("notices: %+v", got)
	}
	first := f.get(t, key).Revoked
	f.clk.Advance(time.Minute)
	if err := f.store.Revoke(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if again := f.get(t, key).Revoked; !again.Equal(first) {
		t.Fatalf("revoking twice moved the revocation time: %v, then %v", first, again)
	}
}

func testRevokeUser(t *testing.T, f *fixture) {
	c := f.listen(t)
	a, _ := f.put(t, "u-1", "42")
	b, _ := f.put(t, "u-1", "43")
	other, _ := f.put(t, "u-2", "42")
	if err := f.store.RevokeUser(context.Background(), "u-1"); err != nil {
		t.Fatal(err)
	}
	if !f.revoked(t, a) || !f.revoked(t, b) || f.revoked(t, other) {
		t.Fatal("RevokeUser revoked the wrong sessions")
	}
	if got := c.all(); len(got) != 1 || got[0] != (passport.Revocation{User: "u-1"}) {
		t.Fatalf("notices: %+v", got)
	}
}

func testRevokeCompany(t *testing.T, f *fixture) {
	c := f.listen(t)
	a, _ := f.put(t, "u-1", "42")
	b, _ := f.put(t, "u-2", "43", "42")
	other, _ := f.put(t, "u-3", "43")
	if err := f.store.RevokeCompany(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	if !f.revoked(t, a) || !f.revoked(t, b) || f.revoked(t, other) {
		t.Fatal("RevokeCompany revoked the wrong sessions")
	}
	if got := c.all(); len(got) != 1 || got[0] != (passport.Revocation{Company: "42"}) {
		t.Fatalf("notices: %+v", got)
	}
}

func testRevokeUnknownNotifies(t *testing.T, f *fixture) {
	c := f.listen(t)
	if err := f.store.Revoke(context.Background(), "no-such-session"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RevokeUser(context.Background(), "no-such-user"); err != nil {
		t.Fatal(err)
	}
	if got := c.all(); len(got) != 2 {
		t.Fatalf("notices: %+v, want two", got)
	}
}

func testExpiryAndRetention(t *testing.T, f *fixture) {
	key, _ := f.put(t, "u-1", "42")
	revokedKey, rs := f.put(t, "u-2", "42")
	if err := f.store.Revoke(context.Background(), rs.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour + time.Second) // expired, within retention
	if s := f.get(t, key); f.clk.Now().Before(s.Expires) {
		t.Fatal("clock did not pass the expiry")
	}
	if !f.revoked(t, revokedKey) {
		t.Fatal("a revoked session forgot its revocation before it was forgotten")
	}
	f.clk.Advance(Retention)
	for _, k := range []string{key, revokedKey} {
		if _, err := f.store.Get(context.Background(), k); !errors.Is(err, passport.ErrSessionUnknown) {
			t.Fatalf("after expiry and retention: %v, want ErrSessionUnknown", err)
		}
	}
}

func testCancel(t *testing.T, f *fixture) {
	c := f.listen(t)
	c.cancel()
	if err := f.store.Revoke(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	if got := c.all(); len(got) != 0 {
		t.Fatalf("a cancelled subscriber heard %+v", got)
	}
}

// A revocation covers every session whose Put returned before it began,
// however many Puts and revocations run at the same time.
func testRevokeCoversEarlierPuts(t *testing.T, f *fixture) {
	const n = 40
	var wg sync.WaitGroup
	keys := make([]string, n)
	for i := range n {
		wg.Go(func() {
			key, s := f.session("u-busy", "42", fmt.Sprint(i%3))
			if err := f.store.Put(context.Background(), key, s); err != nil {
				t.Error(err)
			}
			keys[i] = key
		})
	}
	wg.Wait()
	// Now revoke while more sessions of the same user and company arrive.
	errs := make(chan error, 2*n+2)
	for range n {
		wg.Go(func() {
			key, s := f.session("u-busy", "42")
			errs <- f.store.Put(context.Background(), key, s)
		})
	}
	wg.Go(func() { errs <- f.store.RevokeUser(context.Background(), "u-busy") })
	wg.Go(func() { errs <- f.store.RevokeCompany(context.Background(), "1") })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		if !f.revoked(t, k) {
			t.Fatal("a session stored before RevokeUser began escaped it")
		}
	}
}
