package passport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cellgate/cellgate/edge"
	"golang.org/x/sync/singleflight"
)

// Bounds on how long a fetched JWKS is used before it is fetched again,
// whatever its Cache-Control says.
const (
	minJWKSAge = 30 * time.Second
	maxJWKSAge = 24 * time.Hour
)

// jwksSource holds the keys of a JWKS URL. It fetches on first use, when
// the set is older than its max-age (or half of maxStale, if sooner), and
// when a passport names an unknown kid, but never more than once per
// refreshEvery, and not at all for failureBackoff after a failed fetch: an
// unknown kid must not turn every request into a fetch, and a JWKS endpoint
// that is down must not be hammered. A failed refresh keeps the keys it
// had, but only until maxStale after the fetch that brought them began:
// past that the set is not trusted (a key may have been withdrawn from it
// meanwhile) and every passport is refused with ErrKeysStale until a fetch
// succeeds.
type jwksSource struct {
	url          string
	rt           http.RoundTripper
	timeout      time.Duration
	now          func() time.Time
	refreshEvery time.Duration
	backoff      time.Duration
	maxStale     time.Duration

	mu           sync.RWMutex
	keys         map[string]PublicKey
	expires      time.Time // fetch again from then on
	trustedUntil time.Time // use keys until then, fetch or not
	lastAttempt  time.Time
	failedUntil  time.Time
	lastErr      error

	calls singleflight.Group
}

func newJWKSSource(c *config) *jwksSource {
	rt := c.transport
	if rt == nil {
		rt = edge.NewTransport()
	}
	return &jwksSource{
		url: c.jwksURL, rt: edge.Outbound(rt), timeout: c.timeout, now: c.now,
		refreshEvery: c.refreshEvery, backoff: c.failureBackoff, maxStale: c.jwksMaxStale,
	}
}

func (s *jwksSource) key(ctx context.Context, kid string) (PublicKey, error) {
	now := s.now()
	s.mu.RLock()
	k, ok := s.keys[kid]
	fresh := now.Before(s.expires) // expires is never after trustedUntil
	trusted := now.Before(s.trustedUntil)
	mayFetch := !now.Before(s.failedUntil) && (s.keys == nil || !now.Before(s.lastAttempt.Add(s.refreshEvery)))
	s.mu.RUnlock()
	switch {
	case ok && fresh:
		return k, nil
	case !mayFetch && ok && trusted:
		return k, nil
	case !mayFetch:
		return s.miss(kid, now)
	}
	_ = s.refresh(ctx) // a failed refresh keeps the keys it had while they are trusted
	now = s.now()
	s.mu.RLock()
	k, ok = s.keys[kid]
	trusted = now.Before(s.trustedUntil)
	s.mu.RUnlock()
	if ok && trusted {
		return k, nil
	}
	return s.miss(kid, now)
}

// miss explains why kid has no key at now: none at all yet, or a set
// no longer trusted, is the JWKS's fault (503), a trusted set without it
// is the passport's (401).
func (s *jwksSource) miss(kid string, now time.Time) (PublicKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.keys == nil:
		return PublicKey{}, ErrKeysUnavailable.WithCause(s.lastErr)
	case !now.Before(s.trustedUntil):
		last := s.lastErr
		if last == nil {
			last = errors.New("no fetch has succeeded since") // one may be under way
		}
		return PublicKey{}, ErrKeysStale.WithCause(fmt.Errorf("passport: jwks fetched at %s, trusted for %s: %w",
			s.trustedUntil.Add(-s.maxStale).UTC().Format(time.RFC3339), s.maxStale, last))
	}
	return PublicKey{}, fmt.Errorf("%w %s", errNoKey, kid)
}

// refresh fetches the set once for every caller waiting on it.
func (s *jwksSource) refresh(ctx context.Context) error {
	ch := s.calls.DoChan("", func() (any, error) {
		start := s.now()
		s.mu.Lock()
		s.lastAttempt = start
		s.mu.Unlock()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		keys, maxAge, err := s.fetch(fctx)
		now := s.now()
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.failedUntil, s.lastErr = now.Add(s.backoff), err
			return nil, err
		}
		// The set is as of the fetch's start at the latest: its trust
		// (and its max-age) count from then.
		s.keys, s.lastErr = keys, nil
		s.trustedUntil = start.Add(s.maxStale)
		s.expires = start.Add(min(maxAge, s.maxStale/2))
		return nil, nil
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *jwksSource) fetch(ctx context.Context) (map[string]PublicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("passport: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.rt.RoundTrip(req)
	if err != nil {
		return nil, 0, fmt.Errorf("passport: fetch jwks: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSmallBody))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("passport: fetch jwks: status %d", resp.StatusCode)
	}
	var set JWKS // unknown members (x5c, RSA's n and e) are ignored, not refused
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBody)).Decode(&set); err != nil {
		return nil, 0, fmt.Errorf("passport: decode jwks: %w", err)
	}
	keys := make(map[string]PublicKey, len(set.Keys))
	for _, j := range set.Keys {
		// A key this package cannot use (RSA, another curve, a bad kid) is
		// skipped; it can never verify a passport here.
		if k, err := j.PublicKey(); err == nil {
			keys[k.ID] = k
		}
	}
	if len(keys) == 0 {
		return nil, 0, errors.New("passport: jwks holds no usable key")
	}
	return keys, maxAge(resp.Header.Get("Cache-Control")), nil
}

// maxAge reads max-age from Cache-Control, clamped to [minJWKSAge, maxJWKSAge];
// DefaultJWKSMaxAge when there is none.
func maxAge(cc string) time.Duration {
	for d := range strings.SplitSeq(cc, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		if n, err := strconv.Atoi(strings.Trim(val, `"`)); err == nil {
			return min(max(time.Duration(n)*time.Second, minJWKSAge), maxJWKSAge)
		}
	}
	return DefaultJWKSMaxAge
}
