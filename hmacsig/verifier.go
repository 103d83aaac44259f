package hmacsig

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Keys is the key set of a [Verifier]. Each key has at least [MinKeySize]
// bytes.
type Keys struct {
	// Current and Previous are unnamed keys, tried in that order for a URL
	// without kid: sign with the new key as Current while URLs signed with
	// Previous are still live, then drop Previous.
	Current, Previous []byte
	// ByID holds named keys, chosen by the URL's kid. A URL with a kid is
	// checked against that key only; an unknown kid is a mismatch.
	ByID map[string][]byte
}

// Verifier checks signed requests against a key set. It is safe for
// concurrent use.
type Verifier struct {
	unnamed     []*macKey // Current, then Previous
	byID        map[string]*macKey
	now         func() time.Time
	leeway      time.Duration
	maxLifetime time.Duration
	logger      *slog.Logger // nil: Require logs nothing of its own
	obs         Observer     // nil: none
}

// NewVerifier returns a Verifier for keys. It refuses an empty key set, a
// key shorter than [MinKeySize], a Previous key without a Current one and a
// kid that could not appear in a URL. Its options are [WithClock],
// [WithLeeway], [WithoutLeeway], [WithMaxLifetime], [WithLogger] and
// [WithObserver].
func NewVerifier(keys Keys, opts ...VerifierOption) (*Verifier, error) {
	c, err := newConfig("NewVerifier", opts, VerifierOption.verifierOption)
	if err != nil {
		return nil, err
	}
	v := &Verifier{now: c.now, leeway: c.leeway, maxLifetime: c.maxLifetime, logger: c.logger, obs: c.observer}
	if keys.Current == nil && keys.Previous != nil {
		return nil, errors.New("hmacsig: Keys.Previous set without Keys.Current")
	}
	for _, k := range []struct {
		name string
		key  []byte
	}{{"current", keys.Current}, {"previous", keys.Previous}} {
		if k.key == nil {
			continue
		}
		if err := checkKeySize(k.name+" key", k.key); err != nil {
			return nil, err
		}
		v.unnamed = append(v.unnamed, newMACKey(k.name, k.key))
	}
	v.byID = make(map[string]*macKey, len(keys.ByID))
	for kid, key := range keys.ByID {
		if !validKid(kid) {
			return nil, fmt.Errorf("hmacsig: key id %q is not 1-64 characters of A-Z, a-z, 0-9, -, _ and . (dot)", kid)
		}
		if err := checkKeySize("key "+kid, key); err != nil {
			return nil, err
		}
		v.byID[kid] = newMACKey(kid, key)
	}
	if len(v.unnamed) == 0 && len(v.byID) == 0 {
		return nil, errors.New("hmacsig: no keys")
	}
	return v, nil
}

// Verify checks the signature of r as the spec says, in the spec's order, and
// returns nil or one of [ErrMalformed], [ErrMissing], [ErrExpired],
// [ErrLifetimeTooLong], [ErrContentDigestMissing],
// [ErrContentDigestMalformed] and [ErrMismatch] (possibly with an internal
// cause naming the broken rule, never a key, signature or query).
//
// When the URL has the content_digest parameter, the signature covers the
// request's Content-Digest header too (SPEC.md, "Content digest"), and
// Verify replaces the Body of a verified r (the way http.MaxBytesReader is
// installed) with one that streams the body, hashes it, and returns
// [ErrContentDigestMismatch] instead of io.EOF at its end when the body is
// not the signed one. Nothing is buffered, so nothing can be checked before
// the end: read the body to io.EOF and check the error before acting on it.
// Verify does not require a digest; [Require] with [RequireContentDigest]
// does.
//
// It reads the request-target as received, r.RequestURI, because r.URL has
// been decoded and re-escaped (%2F would become /). A request made in-process
// without RequestURI is read from r.URL.RequestURI(). The target must be in
// origin form (/path?query): an absolute-form target is ErrMalformed, so in
// a test build the request from the signed URL's RequestURI(), not the
// absolute URL httptest.NewRequest would put into RequestURI as it is.
func (v *Verifier) Verify(r *http.Request) error {
	_, _, err := v.verify(r)
	v.observe(r.Context(), err)
	return err
}

// VerifyContent is Verify for a request whose body must be bound: a
// verified URL that signs no Content-Digest is [ErrContentDigestMissing].
// A bound body is checked as it is read (see [Require], Bodies): read it
// to io.EOF before acting on it.
func (v *Verifier) VerifyContent(r *http.Request) error {
	_, bound, err := v.verify(r)
	if err == nil && !bound {
		err = ErrContentDigestMissing
	}
	v.observe(r.Context(), err)
	return err
}

// verify returns the name of the key that verified r, and whether the
// signature covers r's body; r.Body then checks the body as it is read.
func (v *Verifier) verify(r *http.Request) (kid string, bodyBound bool, err error) {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	path, query, _ := strings.Cut(target, "?")

	s := getScratch()
	defer putScratch(s)
	p, err := s.canonicalise(method, path, query)
	switch {
	case err != nil:
		return "", false, ErrMalformed.WithCause(err)
	case !p.hasSig || !p.hasExpiresAt:
		return "", false, ErrMissing
	case !decodeSig(&s.sig, p.sig):
		return "", false, ErrMalformed.WithCause(errSigForm)
	}
	exp, ok := parseExpiresAt(p.expiresAt)
	if !ok {
		return "", false, ErrMalformed.WithCause(errExpiresForm)
	}
	if p.hasKid && !validKid(p.kid) {
		return "", false, ErrMalformed.WithCause(errKidForm)
	}
	if p.hasContentDigest && p.contentDigest != digestAlg {
		return "", false, ErrMalformed.WithCause(errDigestParam)
	}

	now, expiry := v.now(), time.Unix(exp, 0)
	if now.After(expiry.Add(v.leeway)) {
		return "", false, ErrExpired
	}
	if expiry.Sub(now) > v.maxLifetime {
		return "", false, ErrLifetimeTooLong
	}

	// The header is part of the string to sign, so it is read, in its one
	// form, before any MAC is computed.
	if p.hasContentDigest {
		value, err := requestDigest(&s.dig, r.Header)
		if err != nil {
			return "", false, err
		}
		s.appendDigestLine(value)
	}

	kid, err = v.match(s, p)
	if err != nil {
		return "", false, err
	}
	if p.hasContentDigest {
		r.Body = newDigestBody(r.Body, &s.dig)
	}
	return kid, p.hasContentDigest, nil
}

// match returns the name of the key whose MAC of the string to sign is the
// URL's signature: the key named by kid, else each unnamed key in turn.
func (v *Verifier) match(s *scratch, p params) (string, error) {
	if p.hasKid {
		if k := v.byID[p.kid]; k != nil && v.check(s, k) {
			return k.name, nil
		}
		return "", ErrMismatch
	}
	for _, k := range v.unnamed {
		if v.check(s, k) {
			return k.name, nil
		}
	}
	return "", ErrMismatch
}

// check compares, in constant time, the signature of the URL with the MAC
// of the string to sign under k.
func (v *Verifier) check(s *scratch, k *macKey) bool {
	k.sum(&s.sum, s.sts)
	return hmac.Equal(s.sum[:], s.sig[:])
}
