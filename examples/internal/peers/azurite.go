package peers

import (
	"os/exec"
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

// StartAzurite starts azurite-blob on a free loopback port with a temporary
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
	port := itoa(freePort(t))
	a := &Azurite{
		URL:     "http://127.0.0.1:" + port + "/" + azuriteAccount,
		Account: azuriteAccount,
		Key:     azuriteKey,
		Dir:     dir,
	}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", port,
		"--location", dir, "--skipApiVersionCheck", "--silent")
	p := start(t, "azurite", 500*time.Millisecond, cmd)
	// A GET on the account with no credentials answers an error status once
	// the service listens; any answer at all means ready.
	p.waitReady(t, a.URL+"?comp=list", func(int) bool { return true })
	return a
}
