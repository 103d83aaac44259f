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
