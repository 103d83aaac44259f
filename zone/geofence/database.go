package geofence

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Database locates clients in a MaxMind database (GeoIP2 or GeoLite2
// Country or City, or any database whose records carry country.iso_code),
// and reloads it when its file changes: Reload, or Watch in the background.
//
// A new file is read whole into memory, opened and checked with Verify
// before it replaces the old one; a file that fails is refused, logged and
// counted (DecisionDatabaseRefused), and the old database stays in use. The
// swap is one atomic pointer store: a lookup in flight finishes on the
// version it started with, so no request fails or waits while the file is
// replaced. Reading the file into memory rather than mapping it keeps a
// file rewritten in place from changing under a lookup.
type Database struct {
	path     string
	log      *slog.Logger
	obs      Observer
	interval time.Duration

	cur atomic.Pointer[dbVersion]

	mu   sync.Mutex  // serialises Reload
	seen os.FileInfo // the file last tried, loaded or refused
}

// dbVersion is one loaded file and the countries of its records.
type dbVersion struct {
	reader *maxminddb.Reader
	mu     sync.Mutex                          // serialises writers of cache
	cache  atomic.Pointer[map[uintptr]Country] // copy-on-write: read without a lock
}

// maxCachedRecords bounds the record → country cache of one version. A
// country database has a few thousand distinct records; past the bound,
// lookups decode each time (correct, but allocating).
const maxCachedRecords = 1 << 12

// OpenDatabase opens the MaxMind database at path. Options: WithLogger,
// WithObserver, WithReloadInterval (for Watch).
func OpenDatabase(path string, opts ...DatabaseOption) (*Database, error) {
	c, err := newConfig("OpenDatabase", opts, DatabaseOption.databaseOption)
	if err != nil {
		return nil, err
	}
	d := &Database{path: path, log: c.logger, obs: c.observer, interval: c.interval}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geofence: database: %w", err)
	}
	v, err := loadVersion(path)
	if err != nil {
		return nil, err
	}
	d.cur.Store(v)
	d.seen = fi
	return d, nil
}

func loadVersion(path string) (*dbVersion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geofence: database: %w", err)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("geofence: database %s: %w", path, err)
	}
	if err := r.Verify(); err != nil {
		return nil, fmt.Errorf("geofence: database %s: verify: %w", path, err)
	}
	v := &dbVersion{reader: r}
	v.cache.Store(&map[uintptr]Country{})
	return v, nil
}

// Reload loads the file again when it changed since it was last tried (its
// identity, size or modification time), and reports whether the database
// was replaced. On an error the old database stays in use, and the same
// file is not tried again until it changes.
func (d *Database) Reload() (replaced bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := os.Stat(d.path)
	if err != nil {
		return false, fmt.Errorf("geofence: database: %w", err)
	}
	if d.seen != nil && os.SameFile(d.seen, fi) && fi.Size() == d.seen.Size() && fi.ModTime().Equal(d.seen.ModTime()) {
		return false, nil
	}
	d.seen = fi
	v, err := loadVersion(d.path)
	if err != nil {
		d.observe(DecisionDatabaseRefused)
		return false, err
	}
	d.cur.Store(v) // the old version is left to the collector: lookups in flight may still read it
	d.observe(DecisionDatabaseReloaded)
	return true, nil
}

func (d *Database) observe(decision string) {
	if d.obs != nil {
		d.obs.GeofenceDecision(context.Background(), "", decision)
	}
}

// Watch calls Reload every reload interval (WithReloadInterval) until stop
// is called, logging what fails. stop waits for the watcher to end.
func (d *Database) Watch() (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(d.interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if replaced, err := d.Reload(); err != nil {
					d.log.Warn("geofence: database reload refused; the previous database stays in use", slog.Any("error", err))
				} else if replaced {
					d.log.Info("geofence: database reloaded", slog.String("path", d.path))
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-ended
	}
}

// Country returns the country of addr, the unknown Country when the
// database has none. It allocates nothing once the record's country was
// seen.
func (d *Database) Country(addr netip.Addr) Country {
	return d.cur.Load().country(addr)
}

func (v *dbVersion) country(addr netip.Addr) Country {
	if !addr.IsValid() {
		return Country{}
	}
	res := v.reader.Lookup(addr)
	if !res.Found() {
		return Country{}
	}
	off := res.Offset()
	if c, ok := (*v.cache.Load())[off]; ok {
		return c
	}
	var code string
	if err := res.DecodePath(&code, "country", "iso_code"); err != nil {
		return Country{}
	}
	c := ParseCountry(code)
	v.remember(off, c)
	return c
}

// remember caches the country of the record at off.
func (v *dbVersion) remember(off uintptr, c Country) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := *v.cache.Load()
	if _, ok := old[off]; ok || len(old) >= maxCachedRecords {
		return
	}
	m := make(map[uintptr]Country, len(old)+1)
	for k, x := range old {
		m[k] = x
	}
	m[off] = c
	v.cache.Store(&m)
}
