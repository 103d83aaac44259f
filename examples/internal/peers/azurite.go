package peers

import (
	"errors"
	"net/http"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// Azurite is a running Azurite blob service on loopback, holding the
// well-known development account.
type Azurite struct {
	// URL is the account's blob endpoint,
	// "http://127.0.0.1:PORT/devstoreaccount1".
	URL string
	// Account and Key are the development account's name and shared key.
	Account, Key string
	// Dir is the data directory, removed when the test ends.
	Dir string
}

// The development account every Azurite holds; it is public, documented by
// Microsoft, and guards only a temp dir.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// StartAzurite starts azurite-blob on a loopback port it chooses (port 0) with a temporary
// location, waits until the service answers, and stops it when the test
// ends (with SIGKILL after a short grace: azurite ignores SIGTERM for
// seconds). Without the binary (AZURITE_BIN, PATH, $GOPATH/bin,
// .peers/node_modules/.bin/azurite-blob) the test is skipped, or fails
// under CI=true.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	bin, ok := findBinary("AZURITE_BIN", "azurite-blob", ".peers/node_modules/.bin/azurite-blob")
	if !ok {
		missing(t, "azurite-blob not found (set AZURITE_BIN or npm install --prefix .peers azurite@3.37.0)")
	}
	dir := t.TempDir()
	// Port 0: Azurite binds a port the kernel gives it and says which, so
	// no other process can have it first.
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", "0",
		"--location", dir, "--skipApiVersionCheck", "--silent")
	p, err := launch("azurite", 500*time.Millisecond, cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	var base string
	err = p.ready(func() (bool, error) {
		m := azuriteListens.FindStringSubmatch(p.out.String())
		if m == nil {
			return false, errors.New("no \"listens on\" line yet")
		}
		base = m[1]
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &Azurite{
		URL:     base + "/" + azuriteAccount,
		Account: azuriteAccount,
		Key:     azuriteKey,
		Dir:     dir,
	}
	// A GET on the account with no credentials answers an error status once
	// the service listens; any answer at all means ready.
	req, err := http.NewRequest(http.MethodGet, a.URL+"?comp=list", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ready(func() (bool, error) { _, err := get(req); return err == nil, err }); err != nil {
		t.Fatal(err)
	}
	return a
}

// azuriteListens is the line Azurite prints once it listens, with the port
// it was given.
var azuriteListens = regexp.MustCompile(`Azurite Blob service successfully listens on (http://127\.0\.0\.1:[0-9]+)`)
