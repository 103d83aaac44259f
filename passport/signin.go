package passport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// SignIn signs a user in in one call: it stores s in store under a fresh
// session token and sets the session cookie that carries the token on w, so
// the token never leaves this function but in the cookie. Fill in the User
// and Companies of s (and Attrs if any); SignIn gives it a fresh ID
// (NewSessionID), Created is now (WithClock) and Expires, when zero, is now
// plus WithSessionLifetime. It returns the session as stored.
//
// The cookie is named by WithCookie (DefaultCookie unless set), is
// HttpOnly, SameSite=Lax, Path=/ and Secure, and expires with the session.
// WithInsecureCookie drops Secure for development over plain http only.
//
// Its options are the SignInOptions: WithCookie, WithSessionLifetime,
// WithInsecureCookie and WithClock.
//
// Call SignIn before writing the response's header. An API client that
// needs a bearer token instead of a cookie gets one from NewToken and a
// Store.Put under TokenKey(token).
func SignIn(ctx context.Context, w http.ResponseWriter, store Store, s Session, opts ...SignInOption) (Session, error) {
	c, err := newConfig("SignIn", opts, SignInOption.signInOption)
	if err != nil {
		return Session{}, err
	}
	switch {
	case store == nil:
		return Session{}, errors.New("passport: sign in: a store is required")
	case s.ID != "":
		return Session{}, errors.New("passport: sign in: the session ID is assigned by SignIn")
	case s.IsRevoked():
		return Session{}, errors.New("passport: sign in: a new session cannot be revoked")
	}
	now := c.now()
	s.ID, s.Created = NewSessionID(), now
	if s.Expires.IsZero() {
		s.Expires = now.Add(c.sessionLifetime)
	}
	if err := s.Validate(); err != nil {
		return Session{}, err
	}
	token := NewToken()
	if err := store.Put(ctx, TokenKey(token), s); err != nil {
		return Session{}, fmt.Errorf("passport: sign in %s: %w", s.User, err)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     c.cookie,
		Value:    token,
		Path:     "/",
		Expires:  s.Expires,
		HttpOnly: true,
		Secure:   !c.insecureCookie,
		SameSite: http.SameSiteLaxMode,
	})
	return cloneSession(s), nil
}
