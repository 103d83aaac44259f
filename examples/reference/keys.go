package reference

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
)

// Keys are the HMAC keys of the topology, one per purpose and receiver, so
// a leaked URL or key is worth nothing elsewhere.
type Keys struct {
	Upload   []byte // upload PUT URLs, verified by the storage host
	Sessions []byte // calls to the session storage API
	FUS      []byte // the storage host's calls to the file upload services
	Objects  []byte // the object store's presigned URLs
	Auth     []byte // gateways' calls to authentication across processes
}

// KeyNames are the purposes of Keys; the key of purpose p lives in the file
// p+".key" of the key directory, or in the variable CELLGATE_<P>_KEY.
var KeyNames = []string{"upload", "sessions", "fus", "objects", "auth"}

// LoadKeys loads every key of the topology with LoadKey.
func LoadKeys(dir string) (Keys, error) {
	var k Keys
	for _, p := range []struct {
		name string
		dst  *[]byte
	}{{"upload", &k.Upload}, {"sessions", &k.Sessions}, {"fus", &k.FUS}, {"objects", &k.Objects}, {"auth", &k.Auth}} {
		key, err := LoadKey(dir, p.name)
		if err != nil {
			return Keys{}, err
		}
		*p.dst = key
	}
	return k, nil
}

// KeyFile returns the file of the key for purpose name in dir.
func KeyFile(dir, name string) string { return filepath.Join(dir, name+".key") }

// KeyEnv returns the environment variable that may carry the key for
// purpose name: CELLGATE_UPLOAD_KEY for "upload".
func KeyEnv(name string) string { return "CELLGATE_" + strings.ToUpper(name) + "_KEY" }

// LoadKey returns the key for purpose name: from its environment variable
// (KeyEnv), else from its file in dir (KeyFile), else a new random key that
// is first written to that file with mode 0600, so that a command line such
// as examples/signurl can sign with it. A key is never printed or logged.
func LoadKey(dir, name string) ([]byte, error) {
	file := KeyFile(dir, name)
	if os.Getenv(KeyEnv(name)) != "" {
		return hmacsig.LoadKey(KeyEnv(name), "")
	}
	key, err := hmacsig.LoadKey("", file)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("reference: key directory %s: %w", dir, err)
	}
	key = make([]byte, hmacsig.MinKeySize)
	rand.Read(key)
	// O_EXCL: a key that another process wrote meanwhile is read, not replaced.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return hmacsig.LoadKey("", file)
	}
	if err != nil {
		return nil, fmt.Errorf("reference: create key file %s: %w", file, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(file)
		return nil, fmt.Errorf("reference: write key file %s: %w", file, werr)
	}
	return key, nil
}

// ServiceURLLifetime is the longest lifetime a service-to-service verifier
// accepts: hmacsig.Transport signs for a minute, so a few minutes absorb
// clock skew while a leaked URL soon expires.
const ServiceURLLifetime = 5 * time.Minute
