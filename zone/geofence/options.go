package geofence

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// option is one option: its name (for errors) and what it does to the config.
type option struct {
	name  string
	apply func(*config) error
}

// ResidencyOption configures NewResidency.
type ResidencyOption interface{ residencyOption() option }

// FenceOption configures NewFence.
type FenceOption interface{ fenceOption() option }

// DatabaseOption configures OpenDatabase.
type DatabaseOption interface{ databaseOption() option }

// StorageOption configures NewStorageCheck.
type StorageOption interface{ storageOption() option }

// config holds every option of the package; each constructor reads its own.
type config struct {
	observer Observer
	trust    edge.Trust
	headers  []string
	db       *Database
	logger   *slog.Logger
	interval time.Duration
}

// Defaults, in one place.
const (
	// DefaultReloadInterval is how often Database.Watch looks at the file.
	DefaultReloadInterval = time.Minute
)

// DefaultCountryHeaders are the headers Fence reads the client's country
// from, on a trusted hop only: Cloudflare's and CloudFront's.
var DefaultCountryHeaders = []string{"CF-IPCountry", "CloudFront-Viewer-Country"}

func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{trust: edge.TrustNone, interval: DefaultReloadInterval}
	for _, o := range opts {
		var op option
		if any(o) != nil {
			op = get(o)
		}
		if op.apply == nil {
			return nil, fmt.Errorf("geofence: %s: nil or zero option", ctor)
		}
		if err := op.apply(c); err != nil {
			return nil, fmt.Errorf("geofence: %s: %s: %w", ctor, op.name, err)
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	return c, nil
}

// ObserverOption is WithObserver: NewResidency, NewFence, OpenDatabase and
// NewStorageCheck read it.
type ObserverOption struct{ o option }

func (o ObserverOption) residencyOption() option { return o.o }
func (o ObserverOption) fenceOption() option     { return o.o }
func (o ObserverOption) databaseOption() option  { return o.o }
func (o ObserverOption) storageOption() option   { return o.o }

// WithObserver tells o every decision (tracing.Instruments implements
// Observer). By default nothing is told; then observing costs a comparison
// with nil. A nil o is a construction error.
func WithObserver(o Observer) ObserverOption {
	return ObserverOption{option{"WithObserver", func(c *config) error {
		if o == nil {
			return errors.New("nil Observer")
		}
		c.observer = o
		return nil
	}}}
}

type fenceOpt struct{ o option }

func (o fenceOpt) fenceOption() option { return o.o }

// WithTrust says which requests came from a trusted hop, whose country
// header and X-Forwarded-For are believed (edge.ClientAddr). From every
// other request the country headers are deleted in every spelling. Default:
// edge.TrustNone, nothing is believed. A nil t is a construction error.
func WithTrust(t edge.Trust) FenceOption {
	return fenceOpt{option{"WithTrust", func(c *config) error {
		if t == nil {
			return errors.New("nil Trust")
		}
		c.trust = t
		return nil
	}}}
}

// WithCountryHeaders names the headers a trusted hop puts the client's
// country in, replacing DefaultCountryHeaders (CF-IPCountry,
// CloudFront-Viewer-Country). Each is read only from a trusted hop and
// deleted, in every spelling, from every other request. Default:
// DefaultCountryHeaders. No name, or an invalid name, is a construction
// error.
func WithCountryHeaders(names ...string) FenceOption {
	return fenceOpt{option{"WithCountryHeaders", func(c *config) error {
		if len(names) == 0 {
			return errors.New("no header named")
		}
		for _, n := range names {
			if !edge.ValidHeaderName(n) {
				return fmt.Errorf("invalid header name %q", n)
			}
		}
		c.headers = append([]string(nil), names...)
		return nil
	}}}
}

// WithDatabase locates clients in db (a MaxMind country or city database)
// when no trusted hop named their country. Default: no database; a client
// without a trusted country header is of unknown country.
func WithDatabase(db *Database) FenceOption {
	return fenceOpt{option{"WithDatabase", func(c *config) error {
		if db == nil {
			return errors.New("nil Database")
		}
		c.db = db
		return nil
	}}}
}

type databaseOpt struct{ o option }

func (o databaseOpt) databaseOption() option { return o.o }

// WithLogger receives the database's reload failures. Default:
// slog.Default(). A nil l is a construction error.
func WithLogger(l *slog.Logger) DatabaseOption {
	return databaseOpt{option{"WithLogger", func(c *config) error {
		if l == nil {
			return errors.New("nil Logger")
		}
		c.logger = l
		return nil
	}}}
}

// WithReloadInterval is how often Database.Watch looks whether the file
// changed. Default: DefaultReloadInterval (a minute). Zero means the
// default; a negative d is a construction error.
func WithReloadInterval(d time.Duration) DatabaseOption {
	return databaseOpt{option{"WithReloadInterval", func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%v is negative", d)
		}
		if d > 0 {
			c.interval = d
		}
		return nil
	}}}
}
