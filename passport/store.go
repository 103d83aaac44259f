package passport

import (
	"context"
	"time"
)

// Store holds sessions under their TokenKey. Implementations are safe for
// concurrent use. The in-memory MemoryStore is the default; StoreClient
// reaches a store in another process through the storage service.
type Store interface {
	// Get returns the session stored under key, revoked or expired ones
	// included while the store remembers them, or an error matching
	// ErrSessionUnknown when there is none. Any other error means the store
	// could not answer.
	Get(ctx context.Context, key string) (Session, error)
	// Put stores s under key, replacing what was there.
	Put(ctx context.Context, key string, s Session) error
	// Revoke revokes the session with the given ID.
	Revoke(ctx context.Context, sessionID string) error
	// RevokeUser revokes every session of user.
	RevokeUser(ctx context.Context, user string) error
	// RevokeCompany revokes every session that may act for company.
	RevokeCompany(ctx context.Context, company string) error
	// Subscribe calls fn with every revocation made through this store,
	// until cancel is called. fn must not block.
	Subscribe(fn func(Revocation)) (cancel func())
}

// Revocation tells subscribers what was revoked: exactly one field is set.
type Revocation struct {
	SessionID string `json:"session_id,omitempty"`
	User      string `json:"user,omitempty"`
	Company   string `json:"company,omitempty"`
	// All means the subscriber may have missed revocations (a shared
	// store's notice channel reconnected): drop everything cached.
	All bool `json:"all,omitempty"`
	// At is when the revocation was announced, set by stores whose notices
	// cross processes (redisstore), so a receiver knows their lag; zero
	// when unknown. It is not one of the fields above: it says when, not
	// what.
	At time.Time `json:"at,omitzero"`
}

// matches reports whether a session with this id, user and companies is
// covered by r.
func (r Revocation) matches(sid, user string, companies []string) bool {
	switch {
	case r.All:
		return true
	case r.SessionID != "":
		return r.SessionID == sid
	case r.User != "":
		return r.User == user
	case r.Company != "":
		for _, c := range companies {
			if c == r.Company {
				return true
			}
		}
	}
	return false
}
