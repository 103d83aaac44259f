package peers

import (
	"net/http"
	"testing"
)

func TestStartMinIO(t *testing.T) {
	m := StartMinIO(t)
	resp, err := http.Get(m.URL + "/minio/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
}

// The readiness probe tells this MinIO from another one on the port it may
// have lost: a server with other credentials (another test's MinIO) is
// never taken for ours, and a second MinIO gets a port of its own.
func TestMinIOProbeKnowsItsOwnServer(t *testing.T) {
	m := StartMinIO(t)
	if ok, err := m.signedProbe(); !ok {
		t.Fatalf("own server: not ready (%v)", err)
	}
	impostor := *m
	impostor.SecretKey = "another-tests-secret"
	if ok, _ := impostor.signedProbe(); ok {
		t.Fatal("a server with other credentials passed the probe")
	}
	other := StartMinIO(t)
	if other.Endpoint == m.Endpoint || other.SecretKey == m.SecretKey {
		t.Fatalf("two servers share %s or a password", m.Endpoint)
	}
}

func TestStartAzurite(t *testing.T) {
	a := StartAzurite(t)
	// Without credentials the account refuses a listing: the service runs
	// and checks authorization.
	resp, err := http.Get(a.URL + "?comp=list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous list: %d, want 403", resp.StatusCode)
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("MINIO_BIN", "/nonexistent/minio")
	if _, ok := findBinary("MINIO_BIN", "minio"); ok {
		t.Fatal("a MINIO_BIN that does not exist must not fall back to another binary")
	}
}
