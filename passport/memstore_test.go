package passport

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	assert.Len(t, a, 43)
	assert.NotEqual(t, a, b)
	assert.Len(t, NewSessionID(), 22)
	// SHA-256("abc"), lower-case hex.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", TokenKey("abc"))
	assert.True(t, validKey(TokenKey(a)))
	assert.False(t, validKey(strings.ToUpper(TokenKey(a))))
	assert.False(t, validKey(a))
}

func TestSessionValidate(t *testing.T) {
	now := newClock().Now()
	ok := Session{ID: "s", User: "u", Created: now, Expires: now.Add(time.Hour)}
	require.NoError(t, ok.Validate())
	many := make([]string, MaxCompanies+1)
	for i := range many {
		many[i] = "1"
	}
	attrs := map[string]string{}
	for i := range MaxAttrs + 1 {
		attrs[strings.Repeat("k", i+1)] = "v"
	}
	for name, edit := range map[string]func(*Session){
		"no id":              func(s *Session) { s.ID = "" },
		"long id":            func(s *Session) { s.ID = strings.Repeat("x", 129) },
		"no user":            func(s *Session) { s.User = "" },
		"expires first":      func(s *Session) { s.Expires = s.Created },
		"no created":         func(s *Session) { s.Created = time.Time{} },
		"too many companies": func(s *Session) { s.Companies = many },
		"empty company":      func(s *Session) { s.Companies = []string{""} },
		// Ids no signed URL can carry, so never revocable.
		"dot id":          func(s *Session) { s.ID = "." },
		"dot-dot user":    func(s *Session) { s.User = ".." },
		"dot user":        func(s *Session) { s.User = "." },
		"dot-dot company": func(s *Session) { s.Companies = []string{"1", ".."} },
		"too many attrs":  func(s *Session) { s.Attrs = attrs },
		// Identities reach log lines and headers: no control characters.
		"CRLF user":      func(s *Session) { s.User = "u\r\nX-Admin: 1" },
		"NUL user":       func(s *Session) { s.User = "u\x00" },
		"DEL company":    func(s *Session) { s.Companies = []string{"1\x7f"} },
		"C1 id":          func(s *Session) { s.ID = "s\u0085" },
		"bad UTF-8 user": func(s *Session) { s.User = "u\xff" },
		"long attr":      func(s *Session) { s.Attrs = map[string]string{"k": strings.Repeat("v", 257)} },
	} {
		s := ok
		edit(&s)
		assert.Error(t, s.Validate(), name)
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, err := NewMemoryStore(WithClock(clk.Now), WithRetention(time.Minute))
	require.NoError(t, err)
	var notices []Revocation
	cancel := m.Subscribe(func(r Revocation) { notices = append(notices, r) })

	put := func(id, user string, companies ...string) string {
		key := TokenKey(NewToken())
		require.NoError(t, m.Put(ctx, key, Session{ID: id, User: user, Companies: companies,
			Created: clk.Now(), Expires: clk.Now().Add(time.Hour), Attrs: map[string]string{"ua": "test"}}))
		return key
	}
	k1, k2, k3 := put("s1", "alice", "42"), put("s2", "alice", "43"), put("s3", "bob", "42", "44")

	_, err = m.Get(ctx, TokenKey("nope"))
	assert.ErrorIs(t, err, ErrSessionUnknown)
	s, err := m.Get(ctx, k1)
	require.NoError(t, err)
	s.Attrs["ua"], s.Companies[0] = "changed", "99"
	s, _ = m.Get(ctx, k1)
	assert.Equal(t, "test", s.Attrs["ua"], "callers cannot change what the store holds")
	assert.Equal(t, []string{"42"}, s.Companies)

	require.NoError(t, m.Revoke(ctx, "s2"))
	require.NoError(t, m.RevokeCompany(ctx, "44"))
	revoked := func(key string) bool { s, err := m.Get(ctx, key); require.NoError(t, err); return s.IsRevoked() }
	assert.Equal(t, []bool{false, true, true}, []bool{revoked(k1), revoked(k2), revoked(k3)})
	require.NoError(t, m.RevokeUser(ctx, "alice"))
	assert.True(t, revoked(k1))
	require.NoError(t, m.Revoke(ctx, "never-existed"))
	assert.Equal(t, []Revocation{{SessionID: "s2"}, {Company: "44"}, {User: "alice"}, {SessionID: "never-existed"}}, notices)
	cancel()
	require.NoError(t, m.Revoke(ctx, "s1"))
	assert.Len(t, notices, 4, "no notice after cancel")

	// Revoked sessions are remembered until they expire, then for the
	// retention period, then forgotten.
	clk.Advance(time.Hour + time.Minute)
	s, err = m.Get(ctx, k1)
	require.NoError(t, err)
	assert.True(t, s.IsRevoked())
	clk.Advance(time.Second)
	_, err = m.Get(ctx, k1)
	assert.ErrorIs(t, err, ErrSessionUnknown)

	assert.Error(t, m.Put(ctx, "not-a-key", Session{}))
	assert.Error(t, m.Put(ctx, TokenKey("x"), Session{ID: "s"}))
}

func TestMemoryStoreBounded(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, err := NewMemoryStore(WithClock(clk.Now), WithMaxSessions(3))
	require.NoError(t, err)
	keys := make([]string, 5)
	for i := range keys {
		keys[i] = TokenKey(NewToken())
		require.NoError(t, m.Put(ctx, keys[i], Session{ID: "s" + string(rune('0'+i)), User: "u",
			Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}))
	}
	assert.Equal(t, 3, m.Len())
	_, err = m.Get(ctx, keys[0])
	assert.ErrorIs(t, err, ErrSessionUnknown, "the least recently used go first")
	// The indexes shrink with the entries: revoking the user touches only
	// what is left, and evicted IDs are gone from the ID index.
	require.NoError(t, m.RevokeUser(ctx, "u"))
	assert.Len(t, m.byUser["u"], 3)
	assert.Len(t, m.byID, 3)

	// Re-putting a session ID under a new key replaces the old entry.
	newKey := TokenKey(NewToken())
	require.NoError(t, m.Put(ctx, newKey, Session{ID: "s4", User: "u", Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}))
	_, err = m.Get(ctx, keys[4])
	assert.ErrorIs(t, err, ErrSessionUnknown)
	assert.Equal(t, 3, m.Len())

	_, err = NewMemoryStore(WithMaxSessions(-1))
	assert.Error(t, err)
}

// An expired session is remembered (Get returns it, and the
// authentication service answers session_expired) for the retention, zero
// meaning the default; WithoutRetention forgets it at once.
func TestMemoryStoreRetention(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		opts []MemoryStoreOption
		want error
	}{
		"default":          {nil, nil},
		"WithRetention(0)": {[]MemoryStoreOption{WithRetention(0)}, nil},
		"WithoutRetention": {[]MemoryStoreOption{WithoutRetention()}, ErrSessionUnknown},
	} {
		clk := newClock()
		m, err := NewMemoryStore(append(tc.opts, WithClock(clk.Now))...)
		require.NoError(t, err)
		key := TokenKey(NewToken())
		require.NoError(t, m.Put(ctx, key, Session{ID: "s1", User: "u", Created: clk.Now(), Expires: clk.Now().Add(time.Minute)}))
		clk.Advance(2 * time.Minute)
		_, err = m.Get(ctx, key)
		if tc.want == nil {
			assert.NoError(t, err, name)
		} else {
			assert.ErrorIs(t, err, tc.want, name)
		}
	}
}
