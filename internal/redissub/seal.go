package redissub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A sealed notice is
//
//	cgn1.<MAC>.<at>.<nonce>.<body>
//
// where at is the publisher's clock in Unix nanoseconds (decimal), nonce
// is 16 random bytes in lower case hex, and MAC is the unpadded base64url
// HMAC-SHA256, under the key the services share, of
//
//	"cellgate notice v1" 0x00 channel 0x00 at 0x00 nonce 0x00 body
//
// The channel is covered, so a notice cannot be moved to another channel;
// at and the nonce let a receiver refuse a notice replayed later.
const sealPrefix = "cgn1."

// Errors of Opener.Open, for the receivers' counters.
var (
	ErrUnsigned = errors.New("redissub: notice is not sealed")
	ErrBadMAC   = errors.New("redissub: notice MAC does not verify")
	ErrReplayed = errors.New("redissub: notice is too old, from the future, or seen before")
)

// Seal returns body sealed for channel under key, stamped at.
func Seal(key []byte, channel string, at time.Time, body string) string {
	var n [16]byte
	_, _ = rand.Read(n[:]) // never fails (crypto/rand)
	nonce := hex.EncodeToString(n[:])
	ats := strconv.FormatInt(at.UnixNano(), 10)
	mac := base64.RawURLEncoding.EncodeToString(sum(key, channel, ats, nonce, body))
	return sealPrefix + mac + "." + ats + "." + nonce + "." + body
}

func sum(key []byte, channel, at, nonce, body string) []byte {
	m := hmac.New(sha256.New, key)
	for _, s := range []string{"cellgate notice v1", channel, at, nonce} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	m.Write([]byte(body))
	return m.Sum(nil)
}

// Unseal returns the body of a sealed payload and its time without
// verifying anything, for a receiver that has no key (it trusts whoever
// can publish), or ok false when payload is not sealed.
func Unseal(payload string) (body string, at time.Time, ok bool) {
	p, ok := parse(payload)
	return p.body, p.at, ok
}

type sealed struct {
	mac              []byte
	ats, nonce, body string
	at               time.Time
}

func parse(payload string) (sealed, bool) {
	rest, ok := strings.CutPrefix(payload, sealPrefix)
	if !ok {
		return sealed{}, false
	}
	parts := strings.SplitN(rest, ".", 4)
	if len(parts) != 4 {
		return sealed{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(mac) != sha256.Size {
		return sealed{}, false
	}
	ns, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ns <= 0 || strconv.FormatInt(ns, 10) != parts[1] {
		return sealed{}, false
	}
	if len(parts[2]) != 32 || strings.ToLower(parts[2]) != parts[2] {
		return sealed{}, false
	}
	if _, err := hex.DecodeString(parts[2]); err != nil {
		return sealed{}, false
	}
	return sealed{mac: mac, ats: parts[1], nonce: parts[2], body: parts[3], at: time.Unix(0, ns)}, true
}

// maxSeen bounds the MACs an Opener remembers to refuse replays: past it
// the oldest are forgotten first, which can only let a replay through,
// never refuse a fresh notice.
const maxSeen = 100_000

// Opener verifies sealed notices of one channel: the MAC (compared in
// constant time), the age (at most MaxAge either way on its clock) and
// that it has not seen the same notice within MaxAge. Safe for concurrent
// use.
type Opener struct {
	key     []byte
	channel string
	maxAge  time.Duration
	now     func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time // MAC → when it may be forgotten
	order []string             // MACs, oldest first
}

// NewOpener returns an Opener of channel under key that refuses notices
// stamped more than maxAge from now; nil now means time.Now.
func NewOpener(key []byte, channel string, maxAge time.Duration, now func() time.Time) *Opener {
	if now == nil {
		now = time.Now
	}
	return &Opener{key: key, channel: channel, maxAge: maxAge, now: now, seen: make(map[string]time.Time)}
}

// Open returns the body of payload and its time, or ErrUnsigned, ErrBadMAC
// or ErrReplayed.
func (o *Opener) Open(payload string) (body string, at time.Time, err error) {
	p, ok := parse(payload)
	if !ok {
		return "", time.Time{}, ErrUnsigned
	}
	if !hmac.Equal(p.mac, sum(o.key, o.channel, p.ats, p.nonce, p.body)) {
		return "", time.Time{}, ErrBadMAC
	}
	now := o.now()
	if d := now.Sub(p.at); d > o.maxAge || d < -o.maxAge {
		return "", time.Time{}, ErrReplayed
	}
	if !o.remember(string(p.mac), now, p.at.Add(o.maxAge)) {
		return "", time.Time{}, ErrReplayed
	}
	return p.body, p.at, nil
}

// remember records mac until forget, and reports whether it was new.
func (o *Opener) remember(mac string, now, forget time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.order) > 0 {
		oldest := o.order[0]
		if until, ok := o.seen[oldest]; ok && now.Before(until) && len(o.order) < maxSeen {
			break
		}
		delete(o.seen, oldest)
		o.order = o.order[1:]
	}
	if _, dup := o.seen[mac]; dup {
		return false
	}
	o.seen[mac] = forget
	o.order = append(o.order, mac)
	return true
}
