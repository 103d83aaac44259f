package peers

import (
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// MinIO is a running MinIO server on loopback, reachable with its root
// credentials.
type MinIO struct {
	// Endpoint is host:port, as minio-go's New wants it.
	Endpoint string
	// URL is the server's base URL, "http://" + Endpoint.
	URL string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Dir is the data directory, removed when the test ends.
	Dir string

	proc *process
}

// Root credentials of every test MinIO; they protect nothing but a temp dir.
const (
	minioAccessKey = "cellgate-test"
	minioSecretKey = "cellgate-test-secret-key"
)

// StartMinIO starts a MinIO server on a free loopback port with a temporary
// data directory, waits until /minio/health/live answers, and stops it when
// the test ends. Without a minio binary (MINIO_BIN, PATH, $GOPATH/bin,
// .peers/bin) the test is skipped, or fails under CI=true. extra flags go
// to "minio server", such as "--idle-timeout", "2s".
func StartMinIO(t testing.TB, extra ...string) *MinIO {
	t.Helper()
	bin, ok := findBinary("MINIO_BIN", "minio", ".peers/bin/minio")
	if !ok {
		missing(t, "minio binary not found (set MINIO_BIN or go install github.com/minio/minio)")
	}
	dir := t.TempDir()
	m := &MinIO{AccessKey: minioAccessKey, SecretKey: minioSecretKey, Dir: dir}
	m.Endpoint = "127.0.0.1:" + itoa(freePort(t))
	m.URL = "http://" + m.Endpoint

	args := append([]string{"server", "--quiet",
		"--address", m.Endpoint,
		"--console-address", "127.0.0.1:" + itoa(freePort(t))}, extra...)
	cmd := exec.Command(bin, append(args, dir)...)
	cmd.Env = append(cmd.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1", // no prompts, no update checks, fit for CI
	)
	p := start(t, "minio", 5*time.Second, cmd)
	p.waitReady(t, m.URL+"/minio/health/live", func(s int) bool { return s == http.StatusOK })
	m.proc = p
	return m
}
