package passport

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of a Session, so a store entry and a passport stay small.
const (
	MaxCompanies  = 1000 // companies one session may act for
	MaxAttrs      = 16   // attributes per session
	maxIDLen      = 128  // session id, user, company
	maxAttrKeyLen = 64
	maxAttrValLen = 256
)

// Session is what a sign-in creates. It is stored under the SHA-256 of its
// bearer token (see TokenKey); the token itself is never stored, logged,
// put into a passport or forwarded to a cell.
type Session struct {
	// ID identifies the session in passports (sid), logs and revocations.
	// It is not the token and grants nothing.
	ID string `json:"id"`
	// User is the subject (sub) of the session's passports.
	User string `json:"user"`
	// Companies lists the companies the session may act for. Ids are
	// compared as strings, so any id scheme works (decimal, UUID, slug:
	// whatever zone.DetectCompany is configured to accept); each is 1 to 128
	// bytes and neither "." nor "..".
	Companies []string `json:"companies,omitempty"`
	// Created and Expires bound the session's life.
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Revoked is when the session was revoked; zero while it is live.
	Revoked time.Time `json:"revoked,omitzero"`
	// Attrs holds a few small attributes (at most MaxAttrs).
	Attrs map[string]string `json:"attrs,omitempty"`
}

// MayActFor reports whether the session may act for company.
func (s Session) MayActFor(company string) bool { return slices.Contains(s.Companies, company) }

// IsRevoked reports whether the session was revoked.
func (s Session) IsRevoked() bool { return !s.Revoked.IsZero() }

// Validate checks that s is complete and within the package's bounds. Its
// id, user and companies must each be usable as one segment of a signed
// URL (the session storage API revokes by /revoke/user/{user}), so "." and
// ".." are refused: a session that could not be revoked is never created.
func (s Session) Validate() error {
	switch {
	case !validID(s.ID):
		return errors.New(`passport: session id must be 1-128 bytes of UTF-8 without control characters, not "." or ".."`)
	case !validID(s.User):
		return errors.New(`passport: session user must be 1-128 bytes of UTF-8 without control characters, not "." or ".."`)
	case len(s.Companies) > MaxCompanies:
		return fmt.Errorf("passport: session %s: more than %d companies", s.ID, MaxCompanies)
	case len(s.Attrs) > MaxAttrs:
		return fmt.Errorf("passport: session %s: more than %d attributes", s.ID, MaxAttrs)
	case s.Created.IsZero() || !s.Expires.After(s.Created):
		return fmt.Errorf("passport: session %s: expires must follow created", s.ID)
	}
	for _, c := range s.Companies {
		if !validID(c) {
			return fmt.Errorf(`passport: session %s: company ids must be 1-128 bytes of UTF-8 without control characters, not "." or ".."`, s.ID)
		}
	}
	for k, v := range s.Attrs {
		if k == "" || len(k) > maxAttrKeyLen || len(v) > maxAttrValLen {
			return fmt.Errorf("passport: session %s: attribute names are 1-64 bytes, values at most 256", s.ID)
		}
	}
	return nil
}

// validID reports whether id can name a session, user or company: 1 to 128
// bytes of valid UTF-8 without control characters (a CR, LF or NUL in a
// user would reach log lines and headers), and not a dot segment, which no
// signed URL can carry.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen || id == "." || id == ".." || !utf8.ValidString(id) {
		return false
	}
	return !strings.ContainsFunc(id, unicode.IsControl)
}

// NewToken returns a new session token: 256 random bits as 43 URL-safe
// base64 characters. Hand it to the client; store the session under
// TokenKey(token).
func NewToken() string { return base64.RawURLEncoding.EncodeToString(random(32)) }

// NewSessionID returns a new session identifier: 128 random bits, unrelated
// to the token.
func NewSessionID() string { return base64.RawURLEncoding.EncodeToString(random(16)) }

// TokenKey returns the store key of a session token: its SHA-256 in lower
// case hex. The token has 256 bits of entropy, so a plain hash is enough and
// a leaked store reveals no usable token.
func TokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validKey reports whether key looks like a TokenKey.
func validKey(key string) bool {
	if len(key) != 2*sha256.Size {
		return false
	}
	for i := range len(key) {
		if c := key[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
