package reference

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/zone"
)

// fileDirectory is a zone.Directory read from a JSON file once, and again
// only when the file has changed: a lookup costs one stat of the file,
// whatever the directory's size, so a flood of lookups for unknown
// companies (each a miss of the CachingDirectory in front) never makes the
// process parse the file over and over.
//
// A change is seen by the file's size, modification and change times and
// inode: replacing the file (write a temporary file, rename it over) is
// always seen; an in-place rewrite of the same size within the file
// system's timestamp granularity (a few milliseconds) may not be, until the
// next change. A file that has become unreadable or invalid is logged once
// and the last good directory is kept.
type fileDirectory struct {
	path string

	mu      sync.Mutex // one reload at a time
	current atomic.Pointer[loadedDirectory]
	loads   atomic.Int64 // files parsed, for tests
}

// loadedDirectory is a directory and the identity of the file it was read
// from.
type loadedDirectory struct {
	dir *zone.StaticDirectory
	id  fileID
	bad fileID // the last identity that failed to load, not retried
}

// fileID tells one version of a file from another without reading it.
type fileID struct {
	size         int64
	mtime, ctime time.Time
	ino          uint64
}

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	id := fileID{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino = st.Ino
		id.ctime = time.Unix(st.Ctim.Unix())
	}
	return id, nil
}

// newFileDirectory reads the directory at path; an invalid or missing file
// is an error here, at start, and only logged later.
func newFileDirectory(path string) (*fileDirectory, error) {
	f := &fileDirectory{path: path}
	id, err := statID(path)
	if err != nil {
		return nil, err
	}
	dir, err := f.load()
	if err != nil {
		return nil, err
	}
	f.current.Store(&loadedDirectory{dir: dir, id: id})
	return f, nil
}

func (f *fileDirectory) load() (*zone.StaticDirectory, error) {
	f.loads.Add(1)
	return zone.LoadStaticDirectory(f.path)
}

// Lookup implements zone.Directory.
func (f *fileDirectory) Lookup(ctx context.Context, company string) (zone.Zone, error) {
	return f.fresh().dir.Lookup(ctx, company)
}

// fresh returns the directory of the file as it is now, reading it again
// only if it changed since it was last read.
func (f *fileDirectory) fresh() *loadedDirectory {
	cur := f.current.Load()
	id, err := statID(f.path)
	if err != nil || id == cur.id || id == cur.bad {
		return cur // unreadable now: the last good directory stands (logged when it failed to load)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Stat again under the lock, before reading: another lookup may have
	// reloaded meanwhile, and if the file changes while it is read, the
	// identity stored is the older one, so the next lookup reads it again.
	cur = f.current.Load()
	if id, err = statID(f.path); err != nil || id == cur.id || id == cur.bad {
		return cur
	}
	dir, err := f.load()
	next := &loadedDirectory{dir: dir, id: id}
	if err != nil {
		slog.Warn("directory file changed but cannot be loaded; keeping the last good directory", "path", f.path, "err", err)
		next = &loadedDirectory{dir: cur.dir, id: cur.id, bad: id}
	}
	f.current.Store(next)
	return next
}

// LoadSharedDirectory is LoadDirectory for replicas that share
// directory-change notices (zone/redisnotice): the JSON file at path is
// read at start and again whenever it has changed (see the stat check
// below), so after the file has been replaced, a notice for a company
// (redisnotice.Publish, or redis-cli PUBLISH cellgate:directory <company>)
// makes every replica serve the company's new zone at once. A lookup costs
// one stat of the file, never a parse, unless the file changed. Between
// notices, lookups are answered from the cache as with LoadDirectory. With
// path empty it is LoadDirectory: the embedded directory never changes.
//
// Replace the file atomically (write a temporary file, then rename it over
// path): an in-place rewrite to the same size within a few milliseconds of
// the previous write may go unseen until the file's next change. A file
// that has become invalid is logged and the last good directory is kept.
func LoadSharedDirectory(path string) (*zone.CachingDirectory, error) {
	if path == "" {
		return LoadDirectory(path)
	}
	f, err := newFileDirectory(path) // fail at start, not at the first request
	if err != nil {
		return nil, fmt.Errorf("reference: directory: %w", err)
	}
	return zone.NewCachingDirectory(f)
}
