package passport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Revocation with All (a shared store's notice channel reconnected and
// may have missed notices) drops every cached passport.
func TestGatewayRevokedAllPurges(t *testing.T) {
	f := newFixture(t)
	a, _ := f.login(t, "u-a", "42")
	b, _ := f.login(t, "u-b", "43")
	require.Equal(t, http.StatusOK, f.do(a, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(b, "43", false).Code)
	require.EqualValues(t, 2, f.authCalls.Load())
	require.Equal(t, http.StatusOK, f.do(a, "42", false).Code)
	require.EqualValues(t, 2, f.authCalls.Load(), "served from the cache")

	f.gw.Revoked(Revocation{All: true})
	require.Equal(t, http.StatusOK, f.do(a, "42", false).Code)
	require.Equal(t, http.StatusOK, f.do(b, "43", false).Code)
	assert.EqualValues(t, 4, f.authCalls.Load(), "both minted again")
	assert.True(t, Revocation{All: true}.matches("s", "u", nil))
}

// failingStore is a Store whose backend is down.
type failingStore struct{ *MemoryStore }

func (failingStore) Get(context.Context, string) (Session, error) {
	return Session{}, errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

// A store that cannot answer is a 503 session_store_unavailable with
// Retry-After, never a 401 that would sign the user out.
func TestAuthServiceStoreDownIs503WithRetryAfter(t *testing.T) {
	mem, err := NewMemoryStore()
	require.NoError(t, err)
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	issuer, err := NewIssuer(testIss, key)
	require.NoError(t, err)
	auth, err := NewAuthService(failingStore{mem}, issuer, testDirectory(t))
	require.NoError(t, err)
	client := &http.Client{Transport: edge.Binding(auth)}
	body := `{"session_key":"` + TokenKey(NewToken()) + `","company_id":"42","zone":"us01"}`
	resp, err := client.Post(authURL, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"code":"session_store_unavailable"`)
}
