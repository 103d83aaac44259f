package hmacsig

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// SignerOption configures [NewSigner].
type SignerOption interface{ signerOption() option }

// VerifierOption configures [NewVerifier].
type VerifierOption interface{ verifierOption() option }

type (
	signerOpt   option
	verifierOpt option
)

func (o signerOpt) signerOption() option     { return option(o) }
func (o verifierOpt) verifierOption() option { return option(o) }

// ClockOption is [WithClock]: an option of [NewSigner] and [NewVerifier].
type ClockOption struct{ o option }

func (o ClockOption) signerOption() option   { return o.o }
func (o ClockOption) verifierOption() option { return o.o }

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

// newConfig applies opts, taken apart by get, over the defaults for the
// constructor ctor. A nil option is refused as the zero one is.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{
		now:         time.Now,
		leeway:      DefaultLeeway,
		maxLifetime: DefaultMaxLifetime,
	}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "hmacsig", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithKeyID makes a [NewSigner] Signer put kid in every URL it signs, so
// the verifier picks the key by name (Keys.ByID). By default no kid is
// sent (nor with ""). A kid is 1–64 characters of A-Z a-z 0-9 - _ . ;
// anything else is an error.
func WithKeyID(kid string) SignerOption {
	return signerOpt{"WithKeyID", func(c *config) error {
		if kid != "" && !validKid(kid) {
			return fmt.Errorf("key id %q is not 1-64 characters of A-Z, a-z, 0-9, -, _ and . (dot)", kid)
		}
		c.kid = kid
		return nil
	}}
}

// WithClock sets the clock of a Signer ([NewSigner]: expiry of new URLs) or
// a Verifier ([NewVerifier]: expiry checks). The default (or nil) is
// time.Now; tests pass a fixed clock instead of sleeping.
func WithClock(now func() time.Time) ClockOption {
	return ClockOption{option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}}
}

// WithLeeway sets how long after its expires_at a URL still verifies
// ([NewVerifier]). The default (or zero) is [DefaultLeeway]; a negative
// leeway is an error. [WithoutLeeway] allows none.
func WithLeeway(d time.Duration) VerifierOption {
	return verifierOpt{"WithLeeway", func(c *config) error {
		switch {
		case d < 0:
			return fmt.Errorf("leeway %v must not be negative", d)
		case d == 0:
			d = DefaultLeeway
		}
		c.leeway = d
		return nil
	}}
}

// WithoutLeeway makes a Verifier ([NewVerifier]) refuse a URL from its
// expires_at on, for signer and verifier that share a clock.
func WithoutLeeway() VerifierOption {
	return verifierOpt{"WithoutLeeway", func(c *config) error {
		c.leeway = 0
		return nil
	}}
}

// WithMaxLifetime sets the longest remaining lifetime (expires_at − now) a
// Verifier ([NewVerifier]) accepts, so a leaked signing key cannot mint URLs
// that live for years. The default (or zero) is [DefaultMaxLifetime]; a
// negative lifetime is an error.
func WithMaxLifetime(d time.Duration) VerifierOption {
	return verifierOpt{"WithMaxLifetime", func(c *config) error {
		switch {
		case d < 0:
			return fmt.Errorf("maximum lifetime %v must not be negative", d)
		case d == 0:
			d = DefaultMaxLifetime
		}
		c.maxLifetime = d
		return nil
	}}
}

// WithLogger makes [Require] log every request its Verifier ([NewVerifier])
// rejects, at Info level (method, path, code, request ID; never the query).
// By default (or nil), Require logs nothing of its own: the code reaches
// the request's access log line through edge.WriteProblem.
func WithLogger(l *slog.Logger) VerifierOption {
	return verifierOpt{"WithLogger", func(c *config) error { c.logger = l; return nil }}
}
