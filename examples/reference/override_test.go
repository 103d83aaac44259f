package reference

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
)

// overrideRig is the API host (cell router) and the public host of gateway
// us01 in front of a cell that records what reaches it.
type overrideRig struct {
	router, gateway http.Handler
	cookie          string

	mu     sync.Mutex
	seen   http.Header // the last request's headers at the cell
	method string
}

func newOverrideRig(t *testing.T) *overrideRig {
	t.Helper()
	rig := &overrideRig{}
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"1": {Name: "us01", WebBaseURL: "https://us01.example.com"}})
	require.NoError(t, err)
	store, err := passport.NewMemoryStore()
	require.NoError(t, err)
	key, err := passport.GenerateKey(passport.EdDSA)
	require.NoError(t, err)
	issuer, err := passport.NewIssuer("https://auth.override.internal", key)
	require.NoError(t, err)
	quiet := slog.New(slog.DiscardHandler)
	auth, err := NewAuthentication(AuthenticationConfig{Sessions: store, Issuer: issuer, Directory: dir, Logger: quiet})
	require.NoError(t, err)
	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rig.mu.Lock()
		rig.seen, rig.method = r.Header.Clone(), r.Method
		rig.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	gw, err := NewGateway(GatewayConfig{
		Zone: "us01", Directory: dir,
		AuthURL: "http://auth.internal" + PassportsPath, AuthTransport: edge.Binding(auth),
		Cell:  Upstream{URL: "http://cell-us01.internal", Transport: edge.Binding(cell)},
		Trust: edge.TrustBinding, Logger: quiet,
	})
	require.NoError(t, err)
	rig.gateway = gw.Public
	rig.router, err = NewCellRouter(CellRouterConfig{
		Directory: dir, Gateways: map[string]zone.Endpoint{"us01": {Transport: edge.Binding(gw.Internal)}}, Logger: quiet,
	})
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	_, err = passport.SignIn(context.Background(), rec, store, passport.Session{User: "alice", Companies: []string{"1"}}, passport.WithInsecureCookie())
	require.NoError(t, err)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	rig.cookie = cookies[0].Name + "=" + cookies[0].Value
	return rig
}

// send serves one request through front with header set as given (names
// not canonicalised) and returns the answer's status and problem code,
// and the headers the cell saw (nil when nothing reached it).
func (rig *overrideRig) send(t *testing.T, front http.Handler, method, target string, session bool, header map[string]string) (int, string, http.Header) {
	t.Helper()
	rig.mu.Lock()
	rig.seen = nil
	rig.mu.Unlock()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("user=alice")
	}
	req := httptest.NewRequest(method, "http://api.example.com"+target, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Procore-Company-Id", "1")
	if session {
		req.Header.Set("Cookie", rig.cookie)
	}
	for k, v := range header {
		req.Header[k] = append(req.Header[k], v)
	}
	rec := httptest.NewRecorder()
	front.ServeHTTP(rec, req)
	var p struct{ Code string }
	if strings.HasPrefix(rec.Header().Get("Content-Type"), edge.ContentTypeProblem) {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	}
	rig.mu.Lock()
	defer rig.mu.Unlock()
	return rec.Code, p.Code, rig.seen
}

// cgiName is the name a CGI gateway that folds every symbol (lighttpd,
// PHP for '.') gives header k: HTTP_X_ORIGINAL_URL for X.Original-Url.
func cgiName(k string) string {
	return "HTTP_" + strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		if 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, k)
}

// TestOverrideHeadersNeverReachTheCell replays issue 22, item 7: headers
// that frameworks read as another URL, method or company than the one the
// edge checked, on an authenticated route and on the company-less login,
// through the API host and the zone's own host. Each case failed before
// the fix: the header reached the cell, or the request was served.
func TestOverrideHeadersNeverReachTheCell(t *testing.T) {
	rig := newOverrideRig(t)
	routes := []struct {
		name, method, target string
		session              bool
	}{
		{"authenticated", http.MethodPost, "/rest/v1.0/companies/1/projects", true},
		{"company-less login", http.MethodPost, "/login", false},
	}
	fronts := []struct {
		name string
		h    http.Handler
	}{{"api host", rig.router}, {"zone host", rig.gateway}}

	// Deleted: the cell routes on the request line the edge checked.
	stripped := []struct{ name, value string }{
		{"X-Original-Url", "/rest/v1.0/companies/4/projects"},
		{"X-Rewrite-Url", "/rest/v1.0/companies/4/projects"},
		{"x.original.url", "/admin"},
		{"X_Rewrite_URL", "/admin"},
		{"Cellgate.Company.Id", "4"},
		{"Cellgate~Zone", "uk01"},
		{"X.Forwarded.Host", "evil.example"},
	}
	// Refused: the client asked for another method than the one checked.
	refused := []struct{ name, value, code string }{
		{"X-Http-Method-Override", "DELETE", "method_override"},
		{"X-Http-Method", "DELETE", "method_override"},
		{"X-Method-Override", "PUT", "method_override"},
		{"x.http.method.override", "DELETE", "method_override"},
		{"Procore.Company.Id", "4", "company_conflict"},
	}
	for _, front := range fronts {
		for _, route := range routes {
			t.Run(front.name+", "+route.name, func(t *testing.T) {
				status, code, seen := rig.send(t, front.h, route.method, route.target, route.session, nil)
				require.NotNil(t, seen, "%d %s: the plain request reaches the cell", status, code)

				for _, h := range stripped {
					status, code, seen := rig.send(t, front.h, route.method, route.target, route.session, map[string]string{h.name: h.value})
					require.NotNil(t, seen, "%s: %d %s", h.name, status, code)
					for k, vs := range seen {
						if cgiName(k) == cgiName(h.name) {
							assert.NotContains(t, vs, h.value, "%s reached the cell as %s", h.name, k)
						}
					}
				}
				for _, h := range refused {
					status, code, seen := rig.send(t, front.h, route.method, route.target, route.session, map[string]string{h.name: h.value})
					assert.Equal(t, http.StatusBadRequest, status, h.name)
					assert.Equal(t, h.code, code, h.name)
					assert.Nil(t, seen, "%s reached the cell", h.name)
				}
				status, code, seen = rig.send(t, front.h, route.method, route.target+"?_method=DELETE", route.session, nil)
				assert.Equal(t, http.StatusBadRequest, status, "_method")
				assert.Equal(t, "method_override", code, "_method")
				assert.Nil(t, seen, "_method reached the cell")
				// An override naming the request's own method changes
				// nothing; it is dropped, not refused.
				status, code, seen = rig.send(t, front.h, route.method, route.target, route.session, map[string]string{"X-Http-Method-Override": "post"})
				require.NotNil(t, seen, "%d %s", status, code)
				assert.Empty(t, seen.Values("X-Http-Method-Override"))
				assert.Equal(t, route.method, rig.method)
			})
		}
	}
}
