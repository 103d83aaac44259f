package passport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type passportEvents struct {
	rejected, revocations []string
	lags                  []time.Duration
}

func (e *passportEvents) PassportCache(context.Context, string, bool)                 {}
func (e *passportEvents) PassportMint(context.Context, string, time.Duration, string) {}
func (e *passportEvents) PassportRejected(_ context.Context, code string) {
	e.rejected = append(e.rejected, code)
}
func (e *passportEvents) RevocationNotice(_ context.Context, kind string) {
	e.revocations = append(e.revocations, kind)
}
func (e *passportEvents) RevocationLag(_ context.Context, lag time.Duration) {
	e.lags = append(e.lags, lag)
}

func TestVerifierObserverSeesRejections(t *testing.T) {
	key, err := GenerateKey(EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	var ev passportEvents
	v, err := NewVerifier(Expected{Issuer: testIss, Audience: testZone}, WithStaticKeys(key.Public()), WithObserver(&ev))
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer not.a.jwt")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if len(ev.rejected) != 2 || ev.rejected[0] != "passport_missing" || ev.rejected[1] != "passport_invalid" {
		t.Fatalf("rejections %v", ev.rejected)
	}
}

func TestGatewayObserverSeesRevocationKinds(t *testing.T) {
	var ev passportEvents
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	g := &Gateway{obs: &ev, now: func() time.Time { return now }}
	for _, rev := range []Revocation{{SessionID: "s"}, {User: "u", At: now.Add(-300 * time.Millisecond)}, {Company: "1"}, {All: true}} {
		g.observeRevocation(rev)
	}
	if len(ev.lags) != 1 || ev.lags[0] != 300*time.Millisecond {
		t.Fatalf("lags %v, want [300ms]: only a notice with a time has one", ev.lags)
	}
	// The flush on (re)subscription is told apart from revocations, so a
	// dashboard does not read every start-up as a mass revocation.
	want := []string{"session", "user", "company", "resubscribe"}
	for i := range want {
		if i >= len(ev.revocations) || ev.revocations[i] != want[i] {
			t.Fatalf("kinds %v, want %v", ev.revocations, want)
		}
	}
}
