package passport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignIn(t *testing.T) {
	clk := newClock()
	store, err := NewMemoryStore(WithClock(clk.Now))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	s, err := SignIn(context.Background(), w, store, Session{User: "u-1", Companies: []string{"42"}}, WithClock(clk.Now))
	require.NoError(t, err)
	assert.NotEmpty(t, s.ID)
	assert.Equal(t, clk.Now(), s.Created)
	assert.Equal(t, clk.Now().Add(DefaultSessionLifetime), s.Expires)

	cookies := w.Result().Cookies()
	require.Len(t, cookies, 1)
	ck := cookies[0]
	assert.Equal(t, DefaultCookie, ck.Name)
	assert.Equal(t, "/", ck.Path)
	assert.True(t, ck.HttpOnly, "HttpOnly")
	assert.True(t, ck.Secure, "Secure")
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.True(t, ck.Expires.Equal(s.Expires), "cookie expires %v, session %v", ck.Expires, s.Expires)
	assert.Len(t, ck.Value, 43, "a NewToken")

	// The cookie's token finds the session; nothing else about it is stored.
	got, err := store.Get(context.Background(), TokenKey(ck.Value))
	require.NoError(t, err)
	assert.Equal(t, s.ID, got.ID)
	assert.Equal(t, []string{"42"}, got.Companies)

	// Two sign-ins never share a token or an ID.
	w2 := httptest.NewRecorder()
	s2, err := SignIn(context.Background(), w2, store, Session{User: "u-1"}, WithClock(clk.Now))
	require.NoError(t, err)
	assert.NotEqual(t, s.ID, s2.ID)
	assert.NotEqual(t, ck.Value, w2.Result().Cookies()[0].Value)
}

func TestSignInOptions(t *testing.T) {
	clk := newClock()
	store, err := NewMemoryStore(WithClock(clk.Now))
	require.NoError(t, err)
	w := httptest.NewRecorder()
	expires := clk.Now().Add(time.Hour)
	s, err := SignIn(context.Background(), w, store, Session{User: "u-1", Expires: expires},
		WithClock(clk.Now), WithCookie("sid"), WithInsecureCookie(), WithSessionLifetime(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, expires, s.Expires, "an Expires given wins over the lifetime")
	ck := w.Result().Cookies()[0]
	assert.Equal(t, "sid", ck.Name)
	assert.False(t, ck.Secure, "WithInsecureCookie")
	assert.True(t, ck.HttpOnly)

	s, err = SignIn(context.Background(), httptest.NewRecorder(), store, Session{User: "u-2"},
		WithClock(clk.Now), WithSessionLifetime(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Minute), s.Expires)
}

func TestSignInRefuses(t *testing.T) {
	store, err := NewMemoryStore()
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		store Store
		s     Session
		opts  []SignInOption
	}{
		"no store":           {s: Session{User: "u"}},
		"ID given":           {store: store, s: Session{ID: "mine", User: "u"}},
		"revoked":            {store: store, s: Session{User: "u", Revoked: time.Now()}},
		"no user":            {store: store},
		"bad cookie name":    {store: store, s: Session{User: "u"}, opts: []SignInOption{WithCookie("a b")}},
		"negative lifetime":  {store: store, s: Session{User: "u"}, opts: []SignInOption{WithSessionLifetime(-time.Second)}},
		"expires in past":    {store: store, s: Session{User: "u", Expires: time.Unix(1, 0)}},
		"too many companies": {store: store, s: Session{User: "u", Companies: make([]string, MaxCompanies+1)}},
	} {
		w := httptest.NewRecorder()
		_, err := SignIn(context.Background(), w, tc.store, tc.s, tc.opts...)
		assert.Error(t, err, name)
		assert.Empty(t, w.Result().Cookies(), name)
	}
	assert.Equal(t, 0, store.Len())
}
