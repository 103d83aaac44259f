package passport

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// doFrom sends a request for company with the session token from the
// client address addr.
func (f *fixture) doFrom(addr, token, company string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.RemoteAddr = addr
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Procore-Company-Id", company)
	w := httptest.NewRecorder()
	f.front.ServeHTTP(w, r)
	return w
}

// A token the authentication service refused is refused again from memory
// for UnknownTokenTTL: asking with it again costs no call.
func TestGatewayRemembersRefusedTokens(t *testing.T) {
	f := newFixture(t, WithFailureBudget(1000))
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = NewToken()
	}
	for round := range 2 {
		for _, tok := range tokens {
			w := f.doFrom("192.0.2.1:1000", tok, "42")
			require.Equal(t, "session_unknown", problemCode(t, w), "round %d", round)
		}
	}
	assert.EqualValues(t, 100, f.authCalls.Load(), "the second round of the same tokens asked the service again")

	f.clk.Advance(UnknownTokenTTL)
	f.doFrom("192.0.2.1:1000", tokens[0], "42")
	assert.EqualValues(t, 101, f.authCalls.Load(), "a refusal is remembered past UnknownTokenTTL")

	// A valid session is never refused from that memory.
	token, _ := f.login(t, "u-1", "42")
	assert.Equal(t, http.StatusOK, f.doFrom("192.0.2.1:1000", token, "42").Code)
}

// One client address may send DefaultFailureBudget refused tokens a
// minute; past it, requests that no cache answers get 429 without a call,
// while other addresses, and the address's own cached sessions, are
// served.
func TestGatewayFailureBudgetPerAddress(t *testing.T) {
	f := newFixture(t)
	const attacker = "192.0.2.1:1000"
	token, _ := f.login(t, "u-1", "42")
	require.Equal(t, http.StatusOK, f.doFrom(attacker, token, "42").Code) // cached now
	calls := f.authCalls.Load()
	for i := range DefaultFailureBudget {
		w := f.doFrom(attacker, NewToken(), "42")
		require.Equal(t, "session_unknown", problemCode(t, w), "refusal %d", i)
	}
	w := f.doFrom(attacker, NewToken(), "42")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "auth_failures_exceeded", problemCode(t, w))
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.EqualValues(t, calls+DefaultFailureBudget, f.authCalls.Load(), "a request past the budget reached the service")

	// IPv6 clients count by /64: a neighbour in the /64 shares the budget.
	for range DefaultFailureBudget {
		f.doFrom("[2001:db8:1:2::1]:1000", NewToken(), "42")
	}
	assert.Equal(t, "auth_failures_exceeded", problemCode(t, f.doFrom("[2001:db8:1:2::ffff]:1000", NewToken(), "42")))

	assert.Equal(t, http.StatusOK, f.doFrom(attacker, token, "42").Code, "a cached session of the address was refused")
	other, _ := f.login(t, "u-2", "42")
	assert.Equal(t, http.StatusOK, f.doFrom("198.51.100.7:1000", other, "42").Code, "another address was refused")

	f.clk.Advance(time.Minute / DefaultFailureBudget)
	assert.Equal(t, "session_unknown", problemCode(t, f.doFrom(attacker, NewToken(), "42")), "the budget does not refill")
	assert.Equal(t, "auth_failures_exceeded", problemCode(t, f.doFrom(attacker, NewToken(), "42")))
}

// Behind a trusted hop, the budget counts the address the hop appended to
// X-Forwarded-For, never one the client wrote.
func TestGatewayFailureBudgetBehindHop(t *testing.T) {
	hop := func(r *http.Request) bool { return r.RemoteAddr == "10.0.0.1:1000" }
	f := newFixture(t, WithFailureBudget(2), WithForwardedBy(hop))
	send := func(xff string) string {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		r.RemoteAddr = "10.0.0.1:1000"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Authorization", "Bearer "+NewToken())
		r.Header.Set("Procore-Company-Id", "42")
		w := httptest.NewRecorder()
		f.front.ServeHTTP(w, r)
		return problemCode(t, w)
	}
	// The client writes a new first entry each time; the hop's last one stays.
	for i, want := range []string{"session_unknown", "session_unknown", "auth_failures_exceeded"} {
		assert.Equal(t, want, send("203.0.113."+string(rune('1'+i))+", 192.0.2.9"), "request %d", i)
	}
	assert.Equal(t, "session_unknown", send("192.0.2.10"), "another client behind the hop shares the budget")
}

// The attack of issue 23 in a test: 20,000 made-up tokens from one
// address cost DefaultFailureBudget authentication calls (each one store
// read), not 20,000.
func TestGatewayRandomTokenFlood(t *testing.T) {
	f := newFixture(t)
	limited := 0
	for range 20_000 {
		if problemCode(t, f.doFrom("192.0.2.1:1000", NewToken(), "42")) == "auth_failures_exceeded" {
			limited++
		}
	}
	t.Logf("20,000 random tokens from one address: %d authentication calls (store reads), %d answered 429", f.authCalls.Load(), limited)
	assert.EqualValues(t, DefaultFailureBudget, f.authCalls.Load())
}

func TestWithFailureBudgetRefusesNegative(t *testing.T) {
	_, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL}, WithFailureBudget(-1))
	assert.Error(t, err)
}
