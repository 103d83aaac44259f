package hmacsig

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// Option configures [NewSigner] or [NewVerifier]. An option the constructor
// does not read is an error that names both ("hmacsig: NewSigner does not
// take option WithLeeway"), as is an invalid value. Each option's doc names
// its readers.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithKeyID".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

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
	observer    Observer
}

// newConfig applies opts over the defaults for the constructor ctor, which
// reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads ...string) (*config, error) {
	c := &config{
		now:         time.Now,
		leeway:      DefaultLeeway,
		maxLifetime: DefaultMaxLifetime,
	}
	if err := optcheck.Apply(c, "hmacsig", ctor, opts, reads, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithKeyID makes a [NewSigner] Signer put kid in every URL it signs, so
// the verifier picks the key by name (Keys.ByID). By default no kid is
// sent. A kid is 1–64 characters of A-Z a-z 0-9 - _ . ; anything else is an
// error.
func WithKeyID(kid string) Option {
	return Option{"WithKeyID", func(c *config) error {
		if !validKid(kid) {
			return fmt.Errorf("key id %q is not 1-64 characters of A-Z, a-z, 0-9, -, _ and . (dot)", kid)
		}
		c.kid = kid
		return nil
	}}
}

// WithClock sets the clock of a Signer ([NewSigner]: expiry of new URLs) or
// a Verifier ([NewVerifier]: expiry checks). The default (or nil) is
// time.Now; tests pass a fixed clock instead of sleeping.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithLeeway sets how long after its expires_at a URL still verifies
// ([NewVerifier]). The default is [DefaultLeeway]; a negative leeway is an
// error.
func WithLeeway(d time.Duration) Option {
	return Option{"WithLeeway", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("leeway %v must not be negative", d)
		}
		c.leeway = d
		return nil
	}}
}

// WithMaxLifetime sets the longest remaining lifetime (expires_at − now) a
// Verifier ([NewVerifier]) accepts, so a leaked signing key cannot mint URLs
// that live for years. The default is [DefaultMaxLifetime]; a lifetime that
// is not positive is an error.
func WithMaxLifetime(d time.Duration) Option {
	return Option{"WithMaxLifetime", func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("maximum lifetime %v must be positive", d)
		}
		c.maxLifetime = d
		return nil
	}}
}

// WithLogger makes [Require] log every request its Verifier ([NewVerifier])
// rejects, at Info level (method, path, code, request ID; never the query).
// By default (or nil), Require logs nothing of its own: the code reaches
// the request's access log line through edge.WriteProblem.
func WithLogger(l *slog.Logger) Option {
	return Option{"WithLogger", func(c *config) error { c.logger = l; return nil }}
}
