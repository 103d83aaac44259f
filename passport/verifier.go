package passport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/golang-jwt/jwt/v5"
)

// Verifier checks passports in a cell: signature by a known key whose type
// matches the algorithm (EdDSA or ES256 only: never none, never HMAC), no
// crit header (RFC 7515 §4.1.11: it understands no extension), the issuer,
// the audience (the cell's own zone, so a passport minted for another cell
// is refused), exp, nbf and iat with leeway (iat required and not in the
// future), a lifetime no longer than WithMaxLifetime, and every claim a
// passport carries.
type Verifier struct {
	iss         string
	aud         string
	header      string
	bearer      bool
	parser      *jwt.Parser
	keys        keySource
	now         func() time.Time
	maxLifetime time.Duration
	obs         Observer // nil: none
}

type keySource interface {
	key(ctx context.Context, kid string) (PublicKey, error)
}

// Expected is what a Verifier requires of every passport. Its fields are
// named so that the issuer and the audience, both strings, cannot be
// swapped unseen.
type Expected struct {
	// Issuer is the iss an Issuer names itself with (NewIssuer's iss).
	Issuer string
	// Audience is the aud: the cell's own zone, so that a passport minted
	// for another cell is refused.
	Audience string
}

// NewVerifier returns a Verifier for passports issued by expected.Issuer to
// expected.Audience (the cell's zone). Keys come from exactly one of
// WithJWKS (a cell in another process than the Issuer),
// WithInProcessIssuer (the Issuer in this process, followed through every
// rotation) and WithStaticKeys (a fixed set).
// Its options are the VerifierOptions: one of WithJWKS,
// WithInProcessIssuer and WithStaticKeys; WithLeeway, WithMaxLifetime,
// WithPassportHeader, WithJWKSTransport, WithTimeout and WithJWKSMaxStale
// (for the JWKS), WithLoopbackHTTP, WithClock and WithObserver.
func NewVerifier(expected Expected, opts ...VerifierOption) (*Verifier, error) {
	c, err := newConfig("NewVerifier", opts, VerifierOption.verifierOption)
	if err != nil {
		return nil, err
	}
	issuer, audience := expected.Issuer, expected.Audience
	sources := 0
	for _, set := range []bool{c.jwksURL != "", len(c.staticKeys) > 0, c.issuer != nil} {
		if set {
			sources++
		}
	}
	switch {
	case issuer == "" || audience == "":
		return nil, errors.New("passport: NewVerifier: Expected.Issuer and Expected.Audience are required")
	case sources != 1:
		return nil, errors.New("passport: NewVerifier: want exactly one of WithJWKS, WithInProcessIssuer and WithStaticKeys")
	case c.issuer != nil && c.issuer.iss != issuer:
		return nil, fmt.Errorf("passport: NewVerifier: WithInProcessIssuer names %q, the verifier expects %q", c.issuer.iss, issuer)
	}
	maxLifetime := c.maxLifetime
	switch {
	case maxLifetime != 0:
	case c.issuer != nil:
		maxLifetime = c.issuer.lifetime + DefaultLeeway
	default:
		maxLifetime = DefaultMaxLifetime
	}
	v := &Verifier{
		iss: issuer, aud: audience, header: http.CanonicalHeaderKey(c.header), obs: c.observer,
		now: c.now, maxLifetime: maxLifetime,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{EdDSA, ES256}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithLeeway(c.leeway),
			jwt.WithTimeFunc(c.now),
			jwt.WithExpirationRequired(),
			jwt.WithNotBeforeRequired(),
			jwt.WithIssuedAt(),
			jwt.WithStrictDecoding(),
		),
	}
	v.bearer = v.header == "Authorization"
	if c.jwksURL != "" {
		if err := checkJWKSURL(c.jwksURL, c.loopbackHTTP); err != nil {
			return nil, err
		}
		v.keys = newJWKSSource(c)
		return v, nil
	}
	if c.issuer != nil {
		v.keys = issuerKeys{c.issuer}
		return v, nil
	}
	static := make(staticKeys, len(c.staticKeys))
	for _, k := range c.staticKeys {
		if err := k.validate(); err != nil {
			return nil, err
		}
		static[k.ID] = k
	}
	v.keys = static
	return v, nil
}

// checkJWKSURL allows https, and http to a loopback host only when asked.
func checkJWKSURL(raw string, loopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("passport: verifier: JWKS URL %q is not absolute", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if loopbackHTTP && (host == "localhost" || ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("passport: verifier: JWKS URL %q must be https (http only to loopback with WithLoopbackHTTP)", raw)
}

// Verify checks token and returns its claims, or ErrPassportInvalid,
// ErrPassportExpired, ErrPassportLifetimeTooLong, ErrKeysUnavailable or
// ErrKeysStale carrying the reason as cause.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > MaxPassportSize {
		return nil, ErrPassportInvalid.WithCause(fmt.Errorf("passport: %d bytes, limit %d", len(token), MaxPassportSize))
	}
	c := new(Claims)
	_, err := v.parser.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		// golang-jwt ignores crit; RFC 7515 §4.1.11 says a recipient that
		// does not understand a listed extension must refuse, and we
		// understand none (an empty or malformed crit is refused as well).
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("passport: crit header names an extension this verifier does not understand")
		}
		kid, _ := t.Header["kid"].(string)
		if !validKID(kid) {
			return nil, errors.New("passport: missing or malformed kid")
		}
		k, err := v.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		if k.Alg() != t.Method.Alg() {
			return nil, fmt.Errorf("passport: key %s is for %s, token says %s", kid, k.Alg(), t.Method.Alg())
		}
		return k.Key, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrKeysUnavailable):
		return nil, ErrKeysUnavailable.WithCause(err)
	case errors.Is(err, ErrKeysStale):
		return nil, ErrKeysStale.WithCause(err)
	case errors.Is(err, jwt.ErrTokenExpired) && !invalidAsWell(err):
		return nil, ErrPassportExpired.WithCause(err)
	default:
		return nil, ErrPassportInvalid.WithCause(err)
	}
	if c.Subject == "" || c.SessionID == "" || c.ID == "" || c.IssuedAt == nil || c.Zone != v.aud || len(c.Audience) != 1 {
		return nil, ErrPassportInvalid.WithCause(errors.New("passport: sub, sid, jti, iat, zone or a single aud missing or wrong"))
	}
	// The parser checked exp, nbf and iat against now with leeway; it has
	// no bound on how far exp lies ahead (RFC 8725 §3.10's "short-lived").
	// iat is not in the future beyond the leeway, so exp − now is at most
	// exp − iat plus the leeway: bounding both keeps a passport minted for
	// ten years, with an honest or a forged iat, from ever verifying.
	exp, iat := c.ExpiresAt.Time, c.IssuedAt.Time
	if life, left := exp.Sub(iat), exp.Sub(v.now()); life > v.maxLifetime || left > v.maxLifetime {
		return nil, ErrPassportLifetimeTooLong.WithCause(fmt.Errorf("passport: lives %s from iat, %s from now, limit %s",
			life, left, v.maxLifetime))
	}
	return c, nil
}

// invalidAsWell reports whether err, which says expired, names another
// fault too: an expired passport for another cell is invalid, not expired.
func invalidAsWell(err error) bool {
	for _, e := range []error{jwt.ErrTokenInvalidAudience, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenNotValidYet,
		jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenMalformed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Middleware returns next behind v: only requests carrying a passport v
// accepts pass, with its claims in the context (ClaimsFromContext) and its
// company, and no other, in zone.CompanyFromContext. Failures are 401
// passport_missing, passport_invalid, passport_expired or
// passport_lifetime_too_long, and 503 passport_keys_unavailable or
// passport_keys_stale. On a nil Verifier (NewVerifier failed and its error
// went unchecked) it answers every request 500 internal_error, never
// panics, and never lets one through.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	if v == nil {
		return edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("passport: Middleware of a nil Verifier (did NewVerifier fail?)")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := v.token(r.Header)
		if err != nil {
			v.observeRejected(r.Context(), err)
			edge.WriteProblem(w, r, err)
			return
		}
		c, err := v.Verify(r.Context(), token)
		if err != nil {
			v.observeRejected(r.Context(), err)
			edge.WriteProblem(w, r, err)
			return
		}
		// Behind the gateway only the passport speaks for the company:
		// whatever an earlier stage of the cell detected is replaced,
		// by nothing when the passport names no company.
		ctx := zone.ContextWithCompany(ContextWithClaims(r.Context(), c), c.CompanyID)
		ctx = edge.ContextWithPrincipal(ctx, "session:"+c.SessionID)
		if _, ok := zone.ZoneFromContext(ctx); !ok {
			ctx = zone.ContextWithZone(ctx, zone.Zone{Name: c.Zone})
		}
		edge.AddLogAttrs(ctx, slog.String("session_id", c.SessionID), slog.String("user", c.Subject))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// token reads the passport from h.
func (v *Verifier) token(h http.Header) (string, error) {
	vals := h[v.header]
	switch {
	case len(vals) == 0 || vals[0] == "":
		return "", ErrPassportMissing
	case len(vals) > 1:
		return "", ErrPassportInvalid.WithCause(errors.New("passport: more than one passport header"))
	case !v.bearer:
		return vals[0], nil
	}
	const prefix = "Bearer "
	if len(vals[0]) <= len(prefix) || !strings.EqualFold(vals[0][:len(prefix)], prefix) {
		return "", ErrPassportInvalid.WithCause(errors.New("passport: Authorization is not a Bearer token"))
	}
	return vals[0][len(prefix):], nil
}

// issuerKeys reads the keys of an Issuer in this process at every
// verification, so a rotation is followed at once.
type issuerKeys struct{ i *Issuer }

func (s issuerKeys) key(_ context.Context, kid string) (PublicKey, error) {
	if k, ok := s.i.publicKey(kid); ok {
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("%w %s", errNoKey, kid)
}

// staticKeys is a fixed key set.
type staticKeys map[string]PublicKey

func (s staticKeys) key(_ context.Context, kid string) (PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("%w %s", errNoKey, kid)
}
