package hmacsig

import (
	"log/slog"
	"time"
)

// Option configures [NewSigner] and [NewVerifier]. Each constructor reads the
// options that concern it and ignores the rest.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults of a Verifier.
const (
	// DefaultLeeway is how long after expires_at a URL still verifies,
	// to absorb clock skew between signer and verifier.
	DefaultLeeway = 5 * time.Second
	// DefaultMaxLifetime is the longest a verified URL may still have to
	// live. Service-to-service verifiers should lower it to minutes.
	DefaultMaxLifetime = 7 * 24 * time.Hour
)

// config holds every knob of the package; newConfig is the one place where
// defaults live.
type config struct {
	kid         string
	now         func() time.Time
	leeway      time.Duration
	maxLifetime time.Duration
	logger      *slog.Logger
}

func newConfig(opts []Option) *config {
	c := &config{
		now:         time.Now,
		leeway:      DefaultLeeway,
		maxLifetime: DefaultMaxLifetime,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

// WithKeyID makes a [Signer] put kid in every URL it signs, so the verifier
// picks the key by name (Keys.ByID). A kid is 1–64 characters of
// A-Z a-z 0-9 - _ . ; NewSigner refuses anything else.
func WithKeyID(kid string) Option {
	return optionFunc(func(c *config) { c.kid = kid })
}

// WithClock sets the clock of a [Signer] (expiry of new URLs) or a
// [Verifier] (expiry checks). The default is time.Now; tests pass a fixed
// clock instead of sleeping.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithLeeway sets how long after its expires_at a URL still verifies.
// The default is [DefaultLeeway]; NewVerifier refuses a negative leeway.
func WithLeeway(d time.Duration) Option {
	return optionFunc(func(c *config) { c.leeway = d })
}

// WithMaxLifetime sets the longest remaining lifetime (expires_at − now) a
// [Verifier] accepts, so a leaked signing key cannot mint URLs that live
// for years. The default is [DefaultMaxLifetime]; NewVerifier refuses a
// lifetime that is not positive.
func WithMaxLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maxLifetime = d })
}

// WithLogger makes [Require] log every rejected request at Info level
// (method, path, code, request ID; never the query). Without it, Require
// logs nothing of its own: the code reaches the request's access log line
// through edge.WriteProblem.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}
