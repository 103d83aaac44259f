package passport

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// MemoryStore is the embedded Store: bounded (least recently used sessions
// go first when it is full) and expiring by an injectable clock. A revoked
// session is remembered, revoked, until it expires; an expired one for the
// retention period after that (WithRetention), then it is forgotten.
type MemoryStore struct {
	notifier

	now       func() time.Time
	retention time.Duration

	mu       sync.Mutex
	sessions *simplelru.LRU[string, Session] // by TokenKey
	byID     map[string]string               // session ID → TokenKey
	byUser   map[string]map[string]struct{}  // user → TokenKeys
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. Its options are the
// MemoryStoreOptions: WithMaxSessions, WithRetention, WithoutRetention and
// WithClock.
func NewMemoryStore(opts ...MemoryStoreOption) (*MemoryStore, error) {
	c, err := newConfig("NewMemoryStore", opts, MemoryStoreOption.memoryStoreOption)
	if err != nil {
		return nil, err
	}
	m := &MemoryStore{
		now:       c.now,
		retention: c.retention,
		byID:      make(map[string]string),
		byUser:    make(map[string]map[string]struct{}),
	}
	lru, err := simplelru.NewLRU(c.maxEntries, m.unindex)
	if err != nil {
		return nil, fmt.Errorf("passport: memory store: %w", err)
	}
	m.sessions = lru
	return m, nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, key string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions.Get(key)
	if !ok {
		return Session{}, ErrSessionUnknown
	}
	if m.now().After(s.Expires.Add(m.retention)) {
		m.sessions.Remove(key)
		return Session{}, ErrSessionUnknown
	}
	return cloneSession(s), nil
}

// Put implements Store. It refuses a session that fails Validate.
func (m *MemoryStore) Put(_ context.Context, key string, s Session) error {
	if !validKey(key) {
		return fmt.Errorf("passport: put session %s: key is not a TokenKey", s.ID)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	s = cloneSession(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions.Remove(key) // drop the old entry's index entries first
	if old, ok := m.byID[s.ID]; ok {
		m.sessions.Remove(old) // a session ID names one session
	}
	m.sessions.Add(key, s)
	m.byID[s.ID] = key
	keys := m.byUser[s.User]
	if keys == nil {
		keys = make(map[string]struct{})
		m.byUser[s.User] = keys
	}
	keys[key] = struct{}{}
	return nil
}

// Revoke implements Store. Revoking an unknown session is not an error: the
// notice still goes out, so caches elsewhere drop what they hold.
func (m *MemoryStore) Revoke(_ context.Context, sessionID string) error {
	m.mu.Lock()
	if key, ok := m.byID[sessionID]; ok {
		m.revoke(key)
	}
	m.mu.Unlock()
	m.notify(Revocation{SessionID: sessionID})
	return nil
}

// RevokeUser implements Store.
func (m *MemoryStore) RevokeUser(_ context.Context, user string) error {
	m.mu.Lock()
	for key := range m.byUser[user] {
		m.revoke(key)
	}
	m.mu.Unlock()
	m.notify(Revocation{User: user})
	return nil
}

// RevokeCompany implements Store. It walks every session, which is fine
// for an operation as rare as offboarding a company.
func (m *MemoryStore) RevokeCompany(_ context.Context, company string) error {
	r := Revocation{Company: company}
	m.mu.Lock()
	for _, key := range m.sessions.Keys() {
		if s, ok := m.sessions.Peek(key); ok && r.matches(s.ID, s.User, s.Companies) {
			m.revoke(key)
		}
	}
	m.mu.Unlock()
	m.notify(r)
	return nil
}

// Len returns the number of sessions held, expired ones not yet forgotten included.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions.Len()
}

// revoke marks the session under key revoked; m.mu is held.
func (m *MemoryStore) revoke(key string) {
	s, ok := m.sessions.Peek(key)
	if !ok || s.IsRevoked() {
		return
	}
	s.Revoked = m.now()
	// Peek-and-re-add keeps the index; Add on an existing key does not evict.
	m.sessions.Add(key, s)
}

// unindex is the LRU's eviction callback; m.mu is held by whoever evicts.
func (m *MemoryStore) unindex(key string, s Session) {
	if m.byID[s.ID] == key {
		delete(m.byID, s.ID)
	}
	if keys := m.byUser[s.User]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(m.byUser, s.User)
		}
	}
}

// cloneSession copies the slices and maps of s, so callers cannot change
// what the store holds.
func cloneSession(s Session) Session {
	if s.Companies != nil {
		s.Companies = append([]string(nil), s.Companies...)
	}
	if s.Attrs != nil {
		attrs := make(map[string]string, len(s.Attrs))
		for k, v := range s.Attrs {
			attrs[k] = v
		}
		s.Attrs = attrs
	}
	return s
}
