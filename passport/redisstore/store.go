package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/cellgate/cellgate/internal/bounded"
	"github.com/cellgate/cellgate/internal/redissub"

	"github.com/cellgate/cellgate/passport"
	"github.com/redis/go-redis/v9"
)

// Store is a passport.Store on Redis. Sessions expire with Redis TTLs;
// revocations reach the subscribers of every Store on the same Redis
// through pub/sub. Every command or script it sends touches exactly one
// key, so it works unchanged on a single node, behind Sentinel and on
// Cluster (see the package documentation for the key layout).
type Store struct {
	c         redis.UniversalClient
	prefix    string
	channel   string
	retention time.Duration
	now       func() time.Time
	timeout   time.Duration
	replicas  int
	waitFor   time.Duration
	ping      time.Duration
	origin    string // tells this Store's own notices from others'

	notices *noticeState // notices.go: heartbeat bound, signing key, counters

	mu     sync.Mutex
	next   int
	subs   map[int]func(passport.Revocation)
	sub    *redissub.Subscriber // listening since the first Subscribe
	closed bool
}

var _ passport.Store = (*Store)(nil)

// New returns a Store on client, which may be a single node, a Sentinel
// (failover) client or a Cluster client. The client stays the caller's:
// Close does not close it. Its options are the StoreOptions:
// WithKeyPrefix, WithRetention, WithoutRetention, WithClock, WithTimeout,
// WithWaitReplicas, WithNoWaitReplicas, WithPingInterval, WithNoticeBound
// and WithNoticeKey.
func New(client redis.UniversalClient, opts ...StoreOption) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := c.waitReplicas(client); err != nil {
		return nil, fmt.Errorf("redisstore: New: WithWaitReplicas: %w", err)
	}
	return &Store{
		c: client, prefix: c.prefix, channel: c.prefix + "revocations",
		retention: c.retention, now: c.now, timeout: c.timeout,
		replicas: c.replicas, waitFor: c.waitFor, ping: c.ping, notices: newNoticeState(c.notices, c.prefix+"revocations", c.now),
		origin: passport.NewSessionID(),
		subs:   make(map[int]func(passport.Revocation)),
	}, nil
}

// Keys of one session and of the indexes that find it. None of them needs
// a hash tag: no command or script touches two keys.
func (st *Store) sessionKey(key string) string     { return st.prefix + "session:" + key }
func (st *Store) idKey(id string) string           { return st.prefix + "sid:" + id }
func (st *Store) userKey(user string) string       { return st.prefix + "user:" + user }
func (st *Store) companyKey(company string) string { return st.prefix + "company:" + company }

// bound runs f, one store operation, within the Store's timeout whatever
// the client's settings (see WithTimeout). After a failure on a Cluster
// it has the client reload its view of the cluster (at most one reload
// at a time, from any node that answers): go-redis reloads it by itself
// only on a redirect or once a minute, so a client idle while a master
// died would keep sending that master's keys to the dead node for up to
// a minute after a replica took over.
func bound[T any](ctx context.Context, st *Store, f func(context.Context) (T, error)) (T, error) {
	v, err := bounded.Call(ctx, st.timeout, f)
	if cc, ok := st.c.(*redis.ClusterClient); ok && err != nil {
		cc.ReloadState(context.Background())
	}
	return v, err
}

// Get implements passport.Store. A session past its expiry and the
// retention period is unknown even if Redis has not dropped it yet.
func (st *Store) Get(ctx context.Context, key string) (passport.Session, error) {
	vals, err := bound(ctx, st, func(ctx context.Context) ([]any, error) {
		return st.c.HMGet(ctx, st.sessionKey(key), "d", "r").Result()
	})
	if err != nil {
		return passport.Session{}, fmt.Errorf("redisstore: get session: %w", err)
	}
	d, ok := vals[0].(string)
	if !ok {
		return passport.Session{}, passport.ErrSessionUnknown
	}
	var s passport.Session
	if err := json.Unmarshal([]byte(d), &s); err != nil {
		return passport.Session{}, fmt.Errorf("redisstore: get session: decode: %w", err)
	}
	if r, ok := vals[1].(string); ok {
		ns, err := strconv.ParseInt(r, 10, 64)
		if err != nil {
			return passport.Session{}, fmt.Errorf("redisstore: get session %s: bad revocation time", s.ID)
		}
		s.Revoked = time.Unix(0, ns)
	}
	if st.now().After(s.Expires.Add(st.retention)) {
		return passport.Session{}, passport.ErrSessionUnknown
	}
	return s, nil
}

// Put implements passport.Store. It refuses a key that is not a
// passport.TokenKey and a session that fails Validate. The index entries
// (session id, user, companies) are written before the session, so a
// revocation that starts after Get could return the session finds it. A
// session already past its expiry and retention is not stored.
func (st *Store) Put(ctx context.Context, key string, s passport.Session) error {
	if !validKey(key) {
		return fmt.Errorf("redisstore: put session %s: key is not a TokenKey", s.ID)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if _, err := bound(ctx, st, func(ctx context.Context) (struct{}, error) { return struct{}{}, st.put(ctx, key, s) }); err != nil {
		return fmt.Errorf("redisstore: put session %s: %w", s.ID, err)
	}
	return nil
}

// put is Put's work, under its timeout.
func (st *Store) put(ctx context.Context, key string, s passport.Session) error {
	now := st.now()
	until := s.Expires.Add(st.retention)
	ttl := until.Sub(now)
	if ttl < time.Millisecond {
		return st.c.Del(ctx, st.sessionKey(key)).Err()
	}
	revoked := ""
	if s.IsRevoked() {
		revoked = strconv.FormatInt(s.Revoked.UnixNano(), 10)
	}
	s.Revoked = time.Time{}
	d, err := json.Marshal(s)
	if err != nil {
		return err
	}

	old, err := st.index(ctx, key, s, ttl, until, now)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	args := []any{d, s.ID, s.User, revoked, ttl.Milliseconds()}
	if _, err := st.write(ctx, []call{{putScript, []string{st.sessionKey(key)}, args}}); err != nil {
		return err
	}
	if old != "" && old != key {
		// A session ID names one session: drop the one it named before,
		// unless that key holds another session by now.
		if _, err := evalPipelined(ctx, st.c, []call{{dropScript, []string{st.sessionKey(old)}, []any{s.ID}}}); err != nil {
			return fmt.Errorf("drop previous: %w", err)
		}
	}
	return nil
}

// index writes the entries that find the session under key: its id's
// pointer (returning the key it pointed to before) and one member in the
// sorted set of its user and of each company, scored by when the session
// is forgotten. Each is its own command, pipelined, and with
// WithWaitReplicas acknowledged by the replicas like the session itself:
// a session that survives a failover is found by the revocations after.
func (st *Store) index(ctx context.Context, key string, s passport.Session, ttl time.Duration, until, now time.Time) (old string, err error) {
	score, nowMs := strconv.FormatInt(until.UnixMilli(), 10), strconv.FormatInt(now.UnixMilli(), 10)
	calls := make([]call, 0, 1+len(s.Companies))
	calls = append(calls, call{indexScript, []string{st.userKey(s.User)}, []any{key, score, nowMs}})
	for _, company := range s.Companies {
		calls = append(calls, call{indexScript, []string{st.companyKey(company)}, []any{key, score, nowMs}})
	}
	calls = append(calls, call{nil, []string{st.idKey(s.ID)}, []any{"SET", st.idKey(s.ID), key, "PX", ttl.Milliseconds(), "GET"}})
	cmds, err := st.write(ctx, calls)
	if err != nil {
		return "", err
	}
	old, err = cmds[len(cmds)-1].Text()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return old, err
}

// Revoke implements passport.Store. Revoking an unknown session is not an
// error: the notice still goes out, so caches elsewhere drop what they hold.
func (st *Store) Revoke(ctx context.Context, sessionID string) error {
	_, err := bound(ctx, st, func(ctx context.Context) (struct{}, error) {
		key, err := st.c.Get(ctx, st.idKey(sessionID)).Result()
		switch {
		case errors.Is(err, redis.Nil):
			return struct{}{}, nil
		case err != nil:
			return struct{}{}, err
		}
		_, err = st.write(ctx, []call{{revokeScript, []string{st.sessionKey(key)}, []any{"id", sessionID, st.stamp()}}})
		return struct{}{}, err
	})
	if err != nil {
		err = fmt.Errorf("redisstore: revoke session %s: %w", sessionID, err)
	}
	return st.revoked(ctx, passport.Revocation{SessionID: sessionID}, err)
}

// revoked announces r once the revocation wrote, also when err says too
// few replicas acknowledged it: the master has the mark, so caches drop
// what it covers at once while the caller, told it failed, retries. Any
// other error is returned as is, with nothing announced.
func (st *Store) revoked(ctx context.Context, r passport.Revocation, err error) error {
	if err != nil && !errors.Is(err, ErrNotReplicated) {
		return err
	}
	// announce within the timeout, whatever the client's settings.
	return errors.Join(err, bounded.Do(ctx, st.timeout, func(ctx context.Context) error { return st.announce(ctx, r) }))
}

// RevokeUser implements passport.Store.
func (st *Store) RevokeUser(ctx context.Context, user string) error {
	err := st.revokeIndexed(ctx, st.userKey(user), "u", user)
	if err != nil {
		err = fmt.Errorf("redisstore: revoke user %s: %w", user, err)
	}
	return st.revoked(ctx, passport.Revocation{User: user}, err)
}

// RevokeCompany implements passport.Store. It is not atomic across the
// company's sessions (they live in many slots): each session is revoked by
// its own script, in pipelined batches; a session stored while it runs may
// escape, as if it had been stored just after. WithTimeout bounds each
// batch, not the whole revocation, which may list many sessions; bound it
// with ctx.
func (st *Store) RevokeCompany(ctx context.Context, company string) error {
	err := st.revokeIndexed(ctx, st.companyKey(company), "c", company)
	if err != nil {
		err = fmt.Errorf("redisstore: revoke company %s: %w", company, err)
	}
	return st.revoked(ctx, passport.Revocation{Company: company}, err)
}

// revokeBatch is how many index members one pipelined round revokes.
const revokeBatch = 500

// revokeIndexed revokes every live session listed in the sorted set idx;
// the script checks field/value against the session itself, so a stale
// member (the key now holds another session) revokes nothing.
func (st *Store) revokeIndexed(ctx context.Context, idx, field, value string) error {
	stamp := st.stamp()
	min := strconv.FormatInt(st.now().UnixMilli(), 10)
	for offset := int64(0); ; offset += revokeBatch {
		n, err := st.revokeBatch(ctx, idx, min, offset, field, value, stamp)
		if err != nil || n < revokeBatch {
			return err
		}
	}
}

// revokeBatch revokes the sessions listed in idx from offset on, at most
// revokeBatch of them, within one timeout, and says how many it listed.
func (st *Store) revokeBatch(ctx context.Context, idx, min string, offset int64, field, value, stamp string) (int, error) {
	return bound(ctx, st, func(ctx context.Context) (int, error) {
		return st.revokeListed(ctx, idx, min, offset, field, value, stamp)
	})
}

// revokeListed is revokeBatch's work, under its timeout.
func (st *Store) revokeListed(ctx context.Context, idx, min string, offset int64, field, value, stamp string) (int, error) {
	keys, err := st.c.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: idx, Start: min, Stop: "+inf", ByScore: true, Offset: offset, Count: revokeBatch,
	}).Result()
	if err != nil {
		return 0, err
	}
	calls := make([]call, len(keys))
	for i, k := range keys {
		calls[i] = call{revokeScript, []string{st.sessionKey(k)}, []any{field, value, stamp}}
	}
	_, err = st.write(ctx, calls)
	return len(keys), err
}

// stamp is the revocation time as stored: Unix nanoseconds.
func (st *Store) stamp() string { return strconv.FormatInt(st.now().UnixNano(), 10) }

// validKey reports whether key looks like a passport.TokenKey: 64 lower
// case hex digits.
func validKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := range len(key) {
		if c := key[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
