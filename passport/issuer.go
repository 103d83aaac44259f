package passport

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/golang-jwt/jwt/v5"
)

// ErrNextKeyTooNew is returned by Rotate while the next key has been
// published for less than the JWKS max-age: a cell may still hold a JWKS
// without it.
var ErrNextKeyTooNew = errors.New("passport: next key published too recently to sign")

// ErrNoNextKey is returned by Rotate when no next key is staged.
var ErrNoNextKey = errors.New("passport: no next key staged")

// Issuer mints passports. It signs with one active key, publishes the next
// key before it signs with it (a cell must know a key before the first
// passport it signed arrives, or it refuses that passport) and keeps retired
// public keys until every passport they signed has expired.
type Issuer struct {
	iss        string
	lifetime   time.Duration
	jwksMaxAge time.Duration
	now        func() time.Time
	variants   func(Subject) map[string]string // WithVariants; nil: none

	mu       sync.RWMutex
	active   signer
	next     *SigningKey
	nextPub  PublicKey // next's public half, kept so lookups never allocate
	stagedAt time.Time
	retired  []retiredKey
}

type signer struct {
	key    SigningKey
	pub    PublicKey
	method jwt.SigningMethod
}

type retiredKey struct {
	PublicKey
	until time.Time
}

// NewIssuer returns an Issuer naming itself iss that signs with active.
// Its options are the IssuerOptions: WithLifetime, WithNextKey,
// WithPreviousKeys, WithJWKSMaxAge, WithClock and WithVariants.
func NewIssuer(iss string, active SigningKey, opts ...IssuerOption) (*Issuer, error) {
	c, err := newConfig("NewIssuer", opts, IssuerOption.issuerOption)
	if err != nil {
		return nil, err
	}
	if iss == "" {
		return nil, errors.New("passport: issuer: empty iss")
	}
	s, err := newSigner(active)
	if err != nil {
		return nil, err
	}
	i := &Issuer{iss: iss, lifetime: c.lifetime, jwksMaxAge: c.jwksMaxAge, now: c.now, active: s, variants: c.variants}
	if c.next != nil {
		if err := i.Stage(*c.next); err != nil {
			return nil, err
		}
	}
	until := i.now().Add(i.lifetime + DefaultLeeway)
	for _, k := range c.previous {
		if err := k.validate(); err != nil {
			return nil, err
		}
		i.retired = append(i.retired, retiredKey{k, until})
	}
	return i, nil
}

func newSigner(k SigningKey) (signer, error) {
	if err := k.validate(); err != nil {
		return signer{}, err
	}
	m := jwt.SigningMethod(jwt.SigningMethodEdDSA)
	if k.Public().Alg() == ES256 {
		m = jwt.SigningMethodES256
	}
	return signer{key: k, pub: k.Public(), method: m}, nil
}

// Scope is what one passport is minted for. Its fields are named so that a
// company id and a zone name, both strings, cannot be swapped unseen.
type Scope struct {
	// CompanyID is the company the passport acts for (its company_id
	// claim); "" for a company-less route.
	CompanyID string
	// Zone is the zone (cell) the passport is bound to: its aud and zone
	// claims. It is required.
	Zone string
}

// Mint returns a passport for session s acting in scope, and its claims.
// It refuses a revoked session (ErrSessionRevoked), an expired one
// (ErrSessionExpired) and a company the session may not act for
// (ErrCompanyForbidden). The passport never outlives the session.
func (i *Issuer) Mint(s Session, scope Scope) (string, *Claims, error) {
	token, c, _, err := i.mint(s, scope.CompanyID, scope.Zone)
	return token, c, err
}

// mint is Mint that also tells which key signed.
func (i *Issuer) mint(s Session, company, zoneName string) (_ string, _ *Claims, _ string, err error) {
	now := i.now()
	switch {
	case s.IsRevoked():
		return "", nil, "", ErrSessionRevoked
	case !now.Before(s.Expires):
		return "", nil, "", ErrSessionExpired
	case company != "" && !s.MayActFor(company):
		return "", nil, "", ErrCompanyForbidden
	case zoneName == "":
		return "", nil, "", errors.New("passport: mint: empty zone")
	}
	exp := now.Add(i.lifetime)
	if s.Expires.Before(exp) {
		exp = s.Expires
	}
	c := &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.iss,
			Subject:   s.User,
			Audience:  jwt.ClaimStrings{zoneName},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(random(16)),
		},
		CompanyID: company,
		Zone:      zoneName,
		SessionID: s.ID,
	}
	if c.Variants, err = i.assign(s, company, zoneName); err != nil {
		return "", nil, "", err
	}
	i.mu.RLock()
	active := i.active
	i.mu.RUnlock()
	t := jwt.NewWithClaims(active.method, c)
	t.Header["kid"] = active.key.ID
	signed, err := t.SignedString(active.key.Key)
	if err != nil {
		return "", nil, "", fmt.Errorf("passport: mint for session %s with key %s: %w", s.ID, active.key.ID, err)
	}
	return signed, c, active.key.ID, nil
}

// Stage publishes k as the next signing key. Rotate makes it active once it
// has been in the JWKS for the JWKS max-age.
func (i *Issuer) Stage(k SigningKey) error {
	s, err := newSigner(k)
	if err != nil {
		return err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if k.ID == i.active.key.ID {
		return fmt.Errorf("passport: stage key %s: already active", k.ID)
	}
	i.next, i.nextPub, i.stagedAt = &k, s.pub, i.now()
	return nil
}

// Rotate makes the staged next key the active one. The old active key stays
// published for one passport lifetime plus DefaultLeeway, so passports it
// signed keep verifying until they expire. It fails with ErrNoNextKey when
// nothing is staged and ErrNextKeyTooNew while cells may not know the next
// key yet.
func (i *Issuer) Rotate() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.next == nil {
		return ErrNoNextKey
	}
	now := i.now()
	if now.Before(i.stagedAt.Add(i.jwksMaxAge)) {
		return fmt.Errorf("passport: rotate to %s: %w", i.next.ID, ErrNextKeyTooNew)
	}
	s, err := newSigner(*i.next)
	if err != nil {
		return err
	}
	i.retired = append(i.retired, retiredKey{i.active.pub, now.Add(i.lifetime + DefaultLeeway)})
	i.active, i.next, i.nextPub = s, nil, PublicKey{}
	return nil
}

// ActiveKeyID returns the kid passports are signed with now.
func (i *Issuer) ActiveKeyID() string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.active.key.ID
}

// PublicKeys returns the keys a cell must accept: the active key, the next
// one and every retired key whose passports may still be valid.
func (i *Issuer) PublicKeys() []PublicKey {
	now := i.now()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.retired = slices.DeleteFunc(i.retired, func(k retiredKey) bool { return now.After(k.until) })
	keys := []PublicKey{i.active.pub}
	if i.next != nil {
		keys = append(keys, i.nextPub)
	}
	for _, k := range i.retired {
		keys = append(keys, k.PublicKey)
	}
	return keys
}

// publicKey returns the key of PublicKeys whose ID is kid, read under the
// read lock without allocating, for a Verifier that follows the Issuer live
// (WithInProcessIssuer).
func (i *Issuer) publicKey(kid string) (PublicKey, bool) {
	now := i.now()
	i.mu.RLock()
	defer i.mu.RUnlock()
	switch {
	case i.active.pub.ID == kid:
		return i.active.pub, true
	case i.next != nil && i.nextPub.ID == kid:
		return i.nextPub, true
	}
	for _, k := range i.retired {
		if k.ID == kid && !now.After(k.until) {
			return k.PublicKey, true
		}
	}
	return PublicKey{}, false
}

// JWKS returns PublicKeys as a JSON Web Key Set.
func (i *Issuer) JWKS() JWKS {
	keys := i.PublicKeys()
	set := JWKS{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		if j, err := toJWK(k); err == nil { // every key was validated on the way in
			set.Keys = append(set.Keys, j)
		}
	}
	return set
}

// JWKSHandler serves the JWKS, to be mounted at /.well-known/jwks.json,
// with Cache-Control: public, max-age (WithJWKSMaxAge).
func (i *Issuer) JWKSHandler() http.Handler {
	cc := "public, max-age=" + strconv.Itoa(int(i.jwksMaxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			edge.WriteProblem(w, r, ErrMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", cc)
		edge.WriteJSON(w, http.StatusOK, i.JWKS())
	})
}
