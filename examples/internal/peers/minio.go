package peers

import (
	"crypto/rand"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/cellgate/cellgate/internal/testrig/testport"
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

// The root user of every test MinIO; the password is drawn per server
// (see StartMinIO). They protect nothing but a temp dir.
const minioAccessKey = "cellgate-test"

// StartMinIO starts a MinIO server on a loopback port with a temporary data
// directory, waits until it answers a request signed with its own root
// credentials, and stops it when the test ends. Without a minio binary
// (MINIO_BIN, PATH, $GOPATH/bin, .peers/bin) the test is skipped, or fails
// under CI=true. extra flags go to "minio server", such as
// "--idle-timeout", "2s".
//
// MinIO's port 0 is no help (it picks a free port itself, with the same
// race, and does not say which), so the ports come from testport.Start:
// below the ephemeral range, and others when MinIO says its port is in
// use. Each server has a password of its own, so a server that answers
// the signed probe is this one, not another test's on a port it lost.
func StartMinIO(t testing.TB, extra ...string) *MinIO {
	t.Helper()
	bin, ok := findBinary("MINIO_BIN", "minio", ".peers/bin/minio")
	if !ok {
		missing(t, "minio binary not found (set MINIO_BIN or go install github.com/minio/minio)")
	}
	dir := t.TempDir()
	m := &MinIO{AccessKey: minioAccessKey, SecretKey: "cellgate-test-" + rand.Text(), Dir: dir}
	testport.Start(t, "minio", func(port int) error {
		console, err := testport.Candidate()
		if err != nil {
			return err
		}
		m.Endpoint = "127.0.0.1:" + itoa(port)
		m.URL = "http://" + m.Endpoint
		args := append([]string{"server", "--quiet",
			"--address", m.Endpoint,
			"--console-address", "127.0.0.1:" + itoa(console)}, extra...)
		cmd := exec.Command(bin, append(args, dir)...)
		cmd.Env = append(cmd.Environ(),
			"MINIO_ROOT_USER="+m.AccessKey,
			"MINIO_ROOT_PASSWORD="+m.SecretKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_CI_CD=1", // no prompts, no update checks, fit for CI
		)
		p, err := launch("minio", 5*time.Second, cmd)
		if err != nil {
			return err
		}
		if err := p.ready(m.signedProbe); err != nil {
			return err
		}
		m.proc = p
		return nil
	})
	t.Cleanup(m.proc.stop)
	return m
}

// signedProbe lists the buckets with the root credentials: 200 only from
// this server once it is up (another MinIO refuses the signature).
func (m *MinIO) signedProbe() (bool, error) {
	req, err := http.NewRequest(http.MethodGet, m.URL+"/", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	status, err := get(signer.SignV4(*req, m.AccessKey, m.SecretKey, "", "us-east-1"))
	return status == http.StatusOK, err
}
