package passport

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGatewayNoUpgradeWithoutPassport closes part of item 4 of issue 22:
// a public route (the sign-in) passed a protocol switch on without a
// passport, and whatever followed the cell's 101 went unchecked. A request
// that asks to switch protocols now passes only with a passport, like any
// other request of a route that is not public.
func TestGatewayNoUpgradeWithoutPassport(t *testing.T) {
	f := newFixture(t, WithPublic(func(r *http.Request) bool { return true }))
	ws := []string{"Connection", "Upgrade", "Upgrade", "websocket"}
	for name, token := range map[string]string{"no session": "", "a refused session": NewToken()} {
		w := f.do(token, "", false, ws...)
		assert.Equal(t, http.StatusBadRequest, w.Code, name)
		assert.Equal(t, "upgrade_refused", problemCode(t, w), name)
		w = f.do(token, "", false, "Upgrade", "h2c")
		assert.Equal(t, "upgrade_refused", problemCode(t, w), name)
	}
	// With a passport the gateway lets it on; whether the route may
	// switch is the proxy's decision (edge.WithWebSocket).
	token, _ := f.login(t, "u-1", "42")
	w := f.do(token, "", false, ws...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "u-1", body(t, w)["sub"])
	// Without an upgrade, a public route still passes anonymously.
	w = f.do("", "", false)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "yes", body(t, w)["anonymous"])
}
