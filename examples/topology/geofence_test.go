package main

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fromHop is a client whose connections come from addr, a loopback
// address other than 127.0.0.1: the topology's trusted hop (a CDN) when
// started with -trusted-hops.
func fromHop(t *testing.T, addr string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	return &http.Client{Jar: jar, Transport: &http.Transport{DialContext: d.DialContext}}
}

// The README's step: company 4 admits clients in the UK only. A client's
// own CF-IPCountry is ignored (and stripped), in any spelling; the trusted
// hop's is applied, at the API host and at the zone's web front alike.
func TestGeofenceCountryPolicy(t *testing.T) {
	tp := start(t, false, func(c *config) { c.hops = []string{"127.0.0.2/32"} })
	api := tp.urls["api"]
	hop := fromHop(t, "127.0.0.2")

	for _, header := range []string{"CF-IPCountry", "cf_ipcountry", "Cloudfront-Viewer-Country"} {
		resp, body := do(t, nil, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "4", header: "GB"}, nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s from the client: ignored", header)
		assert.Equal(t, "location_denied", problemCode(t, resp, body))
		// The body names nothing of the policy (the random request ID
		// aside, which may hold any two letters).
		assert.NotContains(t, requestIDField.ReplaceAllString(string(body), ""), "GB")
	}
	resp, body := do(t, hop, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "FR"}, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the hop says FR")
	assert.Equal(t, "location_denied", problemCode(t, resp, body))

	resp, body = do(t, hop, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB"}, nil)
	assert.Equal(t, "session_missing", problemCode(t, resp, body), "the hop says GB: admitted, the gateway asks for a session")

	// The hop's X-Forwarded-For names the client's address, which the
	// policy's deny_networks refuses: the public edge keeps it for the
	// fence (edge.WithForwardedBy), so the fence judges the client, not
	// the hop.
	resp, body = do(t, hop, http.MethodGet, api+"/rest/v1.0/me",
		map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB", "X-Forwarded-For": "203.0.113.9"}, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a client in a denied network behind the hop")
	assert.Equal(t, "location_denied", problemCode(t, resp, body))
	resp, body = do(t, hop, http.MethodGet, api+"/rest/v1.0/me",
		map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB", "X-Forwarded-For": "198.51.100.9"}, nil)
	assert.Equal(t, "session_missing", problemCode(t, resp, body), "a client outside it is admitted")

	// Through the hop, in GB: signed in and served by uk01.
	resp, body = do(t, hop, http.MethodPost, api+"/login",
		map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB", "Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader(url.Values{"user": {"alice"}}.Encode()))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "body: %s", body)
	resp, body = do(t, hop, http.MethodGet, api+"/rest/v1.0/projects/7/submittals", map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB"}, nil)
	e := decodeEcho(t, resp, body)
	assert.Equal(t, "uk01", e.Zone)
	assert.Equal(t, "4", e.Claims.Company)

	// The zone's own web front applies the policy too.
	resp, body = do(t, nil, http.MethodGet, tp.urls["uk01"]+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "4", "CF-IPCountry": "GB"}, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "location_denied", problemCode(t, resp, body))

	// A company without a policy is not touched.
	resp, body = do(t, nil, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "3"}, nil)
	assert.Equal(t, "session_missing", problemCode(t, resp, body))
}

// A directory file that puts a uk company in us01: the API host and the
// zone's web front refuse it (503 residency_mismatch), the other companies
// are served as before.
func TestGeofencePoisonedDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
  "1": {"zone": "us01", "web_base_url": "http://127.0.0.1:8081", "residency": "us"},
  "3": {"zone": "us01", "web_base_url": "http://127.0.0.1:8081", "residency": "uk"}
}`), 0o644))
	tp := start(t, false, func(c *config) { c.directory = path })
	for _, host := range []string{"api", "us01"} {
		resp, body := do(t, nil, http.MethodGet, tp.urls[host]+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "3"}, nil)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, host)
		assert.Equal(t, "residency_mismatch", problemCode(t, resp, body), host)
		resp, body = do(t, nil, http.MethodGet, tp.urls[host]+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "1"}, nil)
		assert.Equal(t, "session_missing", problemCode(t, resp, body), host)
	}

}

// requestIDField is a problem's request_id member, random text.
var requestIDField = regexp.MustCompile(`"request_id":"[^"]*"`)
