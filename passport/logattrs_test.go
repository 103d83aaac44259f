package passport

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/stretchr/testify/require"
)

// TestLogAttrsOnceWithGatewayAndVerifier: with the gateway and the verifier in one
// process (one access log line per request), the session and the user are
// named once each, and the line names the service.
func TestLogAttrsOnceWithGatewayAndVerifier(t *testing.T) {
	f := newFixture(t)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := must.Build(edge.AccessLog(edge.WithLogger(logger), edge.WithService("gateway-us01")))(f.front)
	token, s := f.login(t, "alice", "42")
	r := httptest.NewRequest(http.MethodGet, "/projects", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Procore-Company-Id", "42")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), `"sid":"`+s.ID+`"`, "the request went through the verifier")

	line := strings.TrimSpace(logs.String())
	require.Equal(t, 1, strings.Count(line, "\n")+1, "one line per request: %s", line)
	require.Contains(t, line, `"service":"gateway-us01"`)
	require.Equal(t, 1, strings.Count(line, `"session_id":`), line)
	require.Equal(t, 1, strings.Count(line, `"user":`), line)
	require.Contains(t, line, `"session_id":"`+s.ID+`"`)
}
