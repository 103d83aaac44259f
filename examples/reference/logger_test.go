package reference

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/cellgate/cellgate/zone"
)

// TestServiceNamedWithoutLogger: a service built without a Logger (as the
// single-service mains build them) names itself in its access log line, so
// one request's lines at each hop can be told apart.
func TestServiceNamedWithoutLogger(t *testing.T) {
	var logs syncbuf.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	dir, err := EmbeddedDirectory(nil)
	if err != nil {
		t.Fatal(err)
	}
	router, err := NewCellRouter(CellRouterConfig{Directory: dir, Gateways: map[string]zone.Endpoint{"us01": {URL: "http://127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	router.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/rest/v1.0/me", nil))
	line := logs.String()
	if !strings.Contains(line, `"msg":"request"`) || strings.Count(line, `"service":"router"`) != 1 {
		t.Errorf("access log line does not name the router once: %s", line)
	}
}
