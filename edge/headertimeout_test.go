package edge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
)

// A cell that never answers is a 504 upstream_timeout within the response
// header timeout; a cell that answered at once may stream its body for
// longer than that timeout.
func TestProxyResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
		}
		select { // hang until released or the proxy gives up
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "b")
	}))
	defer cell.Close()
	defer close(release)

	const limit = 200 * time.Millisecond
	front := httptest.NewServer(mustProxy(t, cell.URL, edge.WithResponseHeaderTimeout(limit)))
	defer front.Close()

	start := time.Now()
	resp, err := http.Get(front.URL + "/hung")
	require.NoError(t, err)
	var p struct{ Code string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	resp.Body.Close()
	took := time.Since(start)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "upstream_timeout", p.Code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, took, limit)
	assert.Less(t, took, limit+2*time.Second)

	// The header came at once: the body is not cut by the header timeout.
	resp, err = http.Get(front.URL + "/slow-body")
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 1)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	<-time.After(3 * limit) // outlive the header timeout: nothing to poll for
	release <- struct{}{}
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "b", string(rest))
}
