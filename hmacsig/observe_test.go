package hmacsig

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/must"
)

type outcomes []string

func (o *outcomes) SignatureVerified(_ context.Context, outcome string) { *o = append(*o, outcome) }

func TestObserverSeesEveryOutcome(t *testing.T) {
	var seen outcomes
	v, err := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)), WithObserver(&seen))
	if err != nil {
		t.Fatal(err)
	}
	h := must.Build(Require(v))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const path = "/uploads/01HZX3"
	for _, target := range []string{signed(t, testKey, "PUT", path, "", time.Minute), path} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", target, nil))
	}
	_ = v.Verify(httptest.NewRequest("GET", signed(t, testKey, "PUT", path, "", time.Minute), nil))
	want := []string{OutcomeOK, "signature_missing", "signature_mismatch"}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] {
		t.Fatalf("outcomes %v, want %v", seen, want)
	}
}
