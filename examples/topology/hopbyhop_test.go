package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHopByHop replays, against the running topology, items 4 and 5 of
// issue 22: protocol switches that tunnelled past the gateway (also on the
// unauthenticated sign-in), and Connection tokens that deleted the headers
// a hop had set. Each case failed before the fix.
func TestHopByHop(t *testing.T) {
	tp := start(t, false)
	c1, _ := tp.login("1", "alice") // company 1, zone us01

	t.Run("item 5: a Connection header cannot remove the passport", func(t *testing.T) {
		for _, base := range []string{tp.urls["api"], tp.urls["us01"]} {
			for _, connection := range []string{"Authorization", "Cellgate-Company-Id, Cellgate-Zone, Authorization"} {
				resp, body := do(t, c1, http.MethodGet, base+"/rest/v1.0/projects",
					map[string]string{"Procore-Company-Id": "1", "Connection": connection}, nil)
				e := decodeEcho(t, resp, body)
				assert.Equal(t, "1", e.Claims.Company, "%s, Connection: %s", base, connection)
				assert.Equal(t, []string{"us01"}, e.Claims.Aud)
			}
		}
	})

	t.Run("item 4: no protocol switch reaches a cell", func(t *testing.T) {
		ws := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
		h2c := map[string]string{"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}
		with := func(base map[string]string, kv ...string) map[string]string {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		form := "application/x-www-form-urlencoded"
		for _, base := range []string{tp.urls["api"], tp.urls["us01"]} {
			for name, up := range map[string]map[string]string{"websocket": ws, "h2c": h2c} {
				// The sign-in, which needs no session.
				resp, body := do(t, nil, http.MethodPost, base+"/login",
					with(up, "Procore-Company-Id", "1", "Content-Type", form),
					strings.NewReader(url.Values{"user": {"mallory"}}.Encode()))
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s on /login: %s", base, name, body)
				assert.Equal(t, "upgrade_refused", problemCode(t, resp, body), "%s %s on /login", base, name)
				// A route with a session: the reference declares no
				// websocket route.
				resp, body = do(t, c1, http.MethodGet, base+"/rest/v1.0/projects", with(up, "Procore-Company-Id", "1"), nil)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s: %s", base, name, body)
				assert.Equal(t, "upgrade_refused", problemCode(t, resp, body), "%s %s", base, name)
			}
		}
	})
}
