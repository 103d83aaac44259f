package passport

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// A session token costs a client nothing to make up and the edge an
// authentication call and a store read to refuse. Two bounds keep a flood
// of made-up tokens from reaching the store:
//   - a token the service refused (unknown, expired or revoked) is
//     remembered, by its hash, for UnknownTokenTTL: asking again is answered
//     from memory;
//   - each client address may cause at most WithFailureBudget refusals a
//     minute; past that, its requests that are not answered from a cache
//     get 429 auth_failures_exceeded without any call.

// UnknownTokenTTL is how long a Gateway remembers that a session token was
// refused as unknown, expired or revoked. A token is handed to its client
// only after its session is stored, so an unknown token stays unknown; the
// bound is short so that a store read that failed to see a session just
// written (a lagging replica) costs its user seconds, not minutes.
const UnknownTokenTTL = 10 * time.Second

// DefaultFailureBudget is how many refused session tokens one client
// address may send a minute (and at once) before its requests are refused
// without asking the authentication service (see WithFailureBudget).
const DefaultFailureBudget = 60

// maxRefusedTokens and maxFailureClients bound what a Gateway remembers of
// refused tokens and failing addresses; the least recently used goes first.
const (
	maxRefusedTokens  = 100_000
	maxFailureClients = 100_000
)

// ErrAuthFailuresExceeded: the client's address sent more refused session
// tokens than its budget allows; it may retry after Retry-After.
var ErrAuthFailuresExceeded = edge.NewProblem(http.StatusTooManyRequests, "auth_failures_exceeded",
	"Too many requests with an unknown session. Please retry later.")

// tokenBudget is a Gateway's memory of refused tokens and failing
// addresses.
type tokenBudget struct {
	now       func() time.Time
	perMinute int
	trust     edge.Trust

	mu      sync.Mutex
	refused *simplelru.LRU[[sha256.Size]byte, refusedToken]
	clients *simplelru.LRU[netip.Prefix, *failureBucket]
}

type refusedToken struct {
	err   error // ErrSessionUnknown, ErrSessionExpired or ErrSessionRevoked
	until time.Time
}

// failureBucket is a token bucket of refusals: perMinute tokens, one back
// every minute/perMinute.
type failureBucket struct {
	tokens float64
	at     time.Time
}

func newTokenBudget(now func() time.Time, perMinute int, trust edge.Trust) *tokenBudget {
	refused, _ := simplelru.NewLRU[[sha256.Size]byte, refusedToken](maxRefusedTokens, nil) // sizes are positive constants
	clients, _ := simplelru.NewLRU[netip.Prefix, *failureBucket](maxFailureClients, nil)
	return &tokenBudget{now: now, perMinute: perMinute, trust: trust, refused: refused, clients: clients}
}

// refusal returns the remembered refusal of the token with hash session,
// or nil.
func (b *tokenBudget) refusal(session [sha256.Size]byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	rt, ok := b.refused.Get(session)
	if !ok {
		return nil
	}
	if !b.now().Before(rt.until) {
		b.refused.Remove(session)
		return nil
	}
	return rt.err
}

// exhausted reports whether r's client has no refusal left, and if so
// how long until it has one.
func (b *tokenBudget) exhausted(r *http.Request) (bool, time.Duration) {
	client, ok := b.client(r)
	if !ok {
		return false, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	fb, ok := b.clients.Get(client)
	if !ok {
		return false, 0
	}
	b.refill(fb)
	if fb.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - fb.tokens) * float64(time.Minute) / float64(b.perMinute))
}

// failed records that the service refused the token with hash session
// with err, sent by r's client.
func (b *tokenBudget) failed(r *http.Request, session [sha256.Size]byte, err error) {
	if !errors.Is(err, ErrSessionUnknown) && !errors.Is(err, ErrSessionExpired) && !errors.Is(err, ErrSessionRevoked) {
		return // a refusal for this company or zone only, or an outage: not the token's fault
	}
	client, ok := b.client(r)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refused.Add(session, refusedToken{err: err, until: now.Add(UnknownTokenTTL)})
	if !ok {
		return
	}
	fb, ok := b.clients.Get(client)
	if !ok {
		fb = &failureBucket{tokens: float64(b.perMinute), at: now}
		b.clients.Add(client, fb)
	}
	b.refill(fb)
	fb.tokens = max(fb.tokens-1, 0)
}

func (b *tokenBudget) refill(fb *failureBucket) {
	now := b.now()
	if elapsed := now.Sub(fb.at); elapsed > 0 {
		fb.tokens = min(float64(b.perMinute), fb.tokens+elapsed.Minutes()*float64(b.perMinute))
		fb.at = now
	}
}

// client is the address r's refusals count under: IPv4 /32, IPv6 /64.
func (b *tokenBudget) client(r *http.Request) (netip.Prefix, bool) {
	addr, ok := edge.ClientAddr(r, b.trust)
	if !ok {
		return netip.Prefix{}, false
	}
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, err := addr.Prefix(bits)
	return p, err == nil
}

// budgetExceeded is ErrAuthFailuresExceeded with the time until the
// client's next refusal is allowed, for Retry-After.
type budgetExceeded struct{ wait time.Duration }

func (e budgetExceeded) Error() string { return ErrAuthFailuresExceeded.Error() }
func (e budgetExceeded) Unwrap() error { return ErrAuthFailuresExceeded }

// retryAfter is the Retry-After of e: its wait in whole seconds, at least
// one.
func (e budgetExceeded) retryAfter() string {
	return strconv.Itoa(max(1, int((e.wait+time.Second-1)/time.Second)))
}
