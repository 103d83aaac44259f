package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/upload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// topology is a running topology for one test.
type topology struct {
	t       *testing.T
	urls    map[string]string
	admin   string // admin base URL, with config.admin
	keys    string
	objects string // the object store's directory
	logs    *syncbuf.Buffer
	banner  *syncbuf.Buffer
	stop    context.CancelFunc
	done    chan error
}

// start runs the whole topology on free loopback ports; each of with
// changes the configuration first.
func start(t *testing.T, withTLS bool, with ...func(*config)) *topology {
	t.Helper()
	tp := &topology{t: t, logs: &syncbuf.Buffer{}, banner: &syncbuf.Buffer{}, done: make(chan error, 1)}
	cfg := config{
		host:       "127.0.0.1",
		ports:      map[string]int{}, // all 0: free ports
		tls:        withTLS,
		keys:       filepath.Join(t.TempDir(), "keys"),
		objectsDir: t.TempDir(),
		replace:    []string{"GET /rest/v1.0/projects/{projectId}/rfis"},
		grace:      10 * time.Second,
		logger:     slog.New(slog.NewTextHandler(tp.logs, nil)),
	}
	for _, f := range with {
		f(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp.stop = cancel
	tp.objects = cfg.objectsDir
	ready := make(chan started, 1)
	go func() {
		tp.done <- run(ctx, cfg, func(s started) {
			banner(tp.banner, s)
			ready <- s
		})
	}()
	select {
	case s := <-ready:
		tp.urls, tp.keys, tp.admin = s.URLs, s.Keys, s.Admin
	case err := <-tp.done:
		t.Fatalf("topology did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-tp.done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return tp
}

// sign signs rawURL with the topology's key for purpose.
func (tp *topology) sign(purpose, method, rawURL string, lifetime time.Duration, opts ...hmacsig.SignerOption) string {
	tp.t.Helper()
	key, err := hmacsig.LoadKey("", reference.KeyFile(tp.keys, purpose))
	require.NoError(tp.t, err)
	s, err := hmacsig.NewSigner(key, opts...)
	require.NoError(tp.t, err)
	signed, err := s.SignURL(method, rawURL, lifetime)
	require.NoError(tp.t, err)
	return signed
}

// do sends a request and returns the status and the body.
func do(t *testing.T, c *http.Client, method, u string, header map[string]string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// problemCode returns the code of a problem+json answer.
func problemCode(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "body: %s", body)
	var p struct{ Code string }
	require.NoError(t, json.Unmarshal(body, &p))
	return p.Code
}

type echo struct {
	Service string `json:"service"`
	Zone    string `json:"zone"`
	Path    string `json:"path"`
	Claims  struct {
		Iss     string   `json:"iss"`
		Sub     string   `json:"sub"`
		Aud     []string `json:"aud"`
		Company string   `json:"company_id"`
		Zone    string   `json:"zone"`
		SID     string   `json:"sid"`
	} `json:"claims"`
}

func decodeEcho(t *testing.T, resp *http.Response, body []byte) echo {
	t.Helper()
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	var e echo
	require.NoError(t, json.Unmarshal(body, &e))
	return e
}

// login signs user in for company through the API host and returns a
// client holding the session cookie, and the session ID.
func (tp *topology) login(company, user string) (*http.Client, string) {
	tp.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(tp.t, err)
	c := &http.Client{Jar: jar}
	resp, body := do(tp.t, c, http.MethodPost, tp.urls["api"]+"/login",
		map[string]string{"Procore-Company-Id": company, "Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader(url.Values{"user": {user}}.Encode()))
	require.Equal(tp.t, http.StatusCreated, resp.StatusCode, "body: %s", body)
	var l struct {
		SessionID string   `json:"session_id"`
		Companies []string `json:"companies"`
	}
	require.NoError(tp.t, json.Unmarshal(body, &l))
	require.Equal(tp.t, []string{company}, l.Companies)
	require.NotEmpty(tp.t, l.SessionID)
	require.Len(tp.t, jar.Cookies(mustURL(tp.t, tp.urls["api"])), 1, "login sets the session cookie")
	return c, l.SessionID
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestWalkthrough(t *testing.T) {
	tp := start(t, false)
	api := tp.urls["api"]

	t.Run("routing: each company reaches its zone's cell with a passport for it", func(t *testing.T) {
		for company, zoneName := range map[string]string{"1": "us01", "2": "us02", "3": "uk01"} {
			c, sid := tp.login(company, "alice")
			resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": company}, nil)
			e := decodeEcho(t, resp, body)
			assert.Equal(t, "cell", e.Service)
			assert.Equal(t, zoneName, e.Zone, "company %s", company)
			assert.Equal(t, []string{zoneName}, e.Claims.Aud, "passport bound to the cell")
			assert.Equal(t, zoneName, e.Claims.Zone)
			assert.Equal(t, company, e.Claims.Company)
			assert.Equal(t, "alice", e.Claims.Sub)
			assert.Equal(t, sid, e.Claims.SID)
			assert.Equal(t, issuerName, e.Claims.Iss)
		}
	})

	t.Run("company base URL from the router", func(t *testing.T) {
		// The ports are free ones, not 8081–8083: web_base_url follows them.
		for company, zoneName := range map[string]string{"1": "us01", "2": "us02", "3": "uk01"} {
			resp, body := do(t, nil, http.MethodGet, api+"/rest/v1.0/company_base_url", map[string]string{"Procore-Company-Id": company}, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
			assert.JSONEq(t, `{"zone":"`+zoneName+`","web_base_url":"`+tp.urls[zoneName]+`"}`, string(body))
		}
	})

	t.Run("missing and unknown company", func(t *testing.T) {
		resp, body := do(t, nil, http.MethodGet, api+"/rest/v1.0/me", nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "company_missing", problemCode(t, resp, body))
		resp, body = do(t, nil, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "99"}, nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Equal(t, "company_unknown", problemCode(t, resp, body))
		resp, body = do(t, nil, http.MethodGet, api+"/rest/v1.0/company_base_url", map[string]string{"Procore-Company-Id": "99"}, nil)
		assert.Equal(t, "company_unknown", problemCode(t, resp, body))
	})

	t.Run("no session: 401 session_missing", func(t *testing.T) {
		resp, body := do(t, nil, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "1"}, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "session_missing", problemCode(t, resp, body))
	})

	t.Run("a session acts only for its company", func(t *testing.T) {
		c, _ := tp.login("1", "alice")
		resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "2"}, nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, "company_forbidden", problemCode(t, resp, body))
	})

	t.Run("revocation through the signed session storage API", func(t *testing.T) {
		c, sid := tp.login("1", "bob")
		hdr := map[string]string{"Procore-Company-Id": "1"}
		resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/me", hdr, nil)
		decodeEcho(t, resp, body) // the passport is now cached by the gateway

		revoke := tp.urls["sessions"] + "/revoke/session/" + url.PathEscape(sid)
		resp, body = do(t, nil, http.MethodPost, revoke, nil, nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "unsigned revocation refused")
		assert.Equal(t, "signature_missing", problemCode(t, resp, body))

		resp, body = do(t, nil, http.MethodPost, tp.sign("sessions", http.MethodPost, revoke, time.Minute), nil, nil)
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "body: %s", body)

		resp, body = do(t, c, http.MethodGet, api+"/rest/v1.0/me", hdr, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "session_revoked", problemCode(t, resp, body))
		resp, body = do(t, c, http.MethodGet, tp.urls["us01"]+"/rest/v1.0/me", hdr, nil)
		assert.Equal(t, "session_revoked", problemCode(t, resp, body), "directly at the gateway too")
	})

	t.Run("strangler: listed routes reach the replacement", func(t *testing.T) {
		c, _ := tp.login("1", "alice")
		hdr := map[string]string{"Procore-Company-Id": "1"}
		resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/projects/7/rfis", hdr, nil)
		e := decodeEcho(t, resp, body)
		assert.Equal(t, "replacement", e.Service)
		assert.Equal(t, "1", e.Claims.Company, "the replacement verifies the passport too")
		resp, body = do(t, c, http.MethodGet, api+"/rest/v1.0/projects/7", hdr, nil)
		assert.Equal(t, "cell", decodeEcho(t, resp, body).Service)
		resp, body = do(t, c, http.MethodPost, api+"/rest/v1.0/projects/7/rfis", hdr, nil)
		assert.Equal(t, "cell", decodeEcho(t, resp, body).Service, "only GET moved")
	})

	t.Run("forged Cellgate headers are ignored", func(t *testing.T) {
		c, _ := tp.login("1", "alice")
		forged := map[string]string{
			"Procore-Company-Id":  "1",
			"Cellgate-Company-Id": "2",
			"Cellgate-Zone":       "us02",
			"cellgate_company_id": "3",
		}
		for _, base := range []string{api, tp.urls["us01"]} {
			resp, body := do(t, c, http.MethodGet, base+"/rest/v1.0/me", forged, nil)
			e := decodeEcho(t, resp, body)
			assert.Equal(t, "us01", e.Zone, base)
			assert.Equal(t, "1", e.Claims.Company, base)
		}
		// Without the public header, the forged company is not believed.
		resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/me", map[string]string{"Cellgate-Company-Id": "1"}, nil)
		assert.Equal(t, "company_missing", problemCode(t, resp, body))
	})

	t.Run("a gateway refuses another zone's company", func(t *testing.T) {
		c, _ := tp.login("2", "alice")
		resp, body := do(t, c, http.MethodGet, tp.urls["us01"]+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "2"}, nil)
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
		assert.Equal(t, "zone_misdirected", problemCode(t, resp, body))
	})

	t.Run("authentication is unreachable from outside", func(t *testing.T) {
		for name, u := range tp.urls {
			assert.NotContains(t, name, "auth", "authentication has no public host")
			// The path of the authentication service on a public host reaches
			// a cell or the router, never the service.
			resp, body := do(t, nil, http.MethodPost, u+reference.PassportsPath, map[string]string{"Procore-Company-Id": "1"},
				strings.NewReader(`{"session_key":"`+strings.Repeat("a", 64)+`","zone":"us01"}`))
			assert.NotEqual(t, http.StatusOK, resp.StatusCode, "%s: %s", name, body)
			assert.NotContains(t, string(body), `"passport"`, name)
		}
	})

	t.Run("pages: embedded app with CSP nonce and HSTS", func(t *testing.T) {
		resp, body := do(t, nil, http.MethodGet, tp.urls["us02"]+"/webclients/projects/7", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		csp := resp.Header.Get("Content-Security-Policy")
		_, rest, ok := strings.Cut(csp, "'nonce-")
		require.True(t, ok, csp)
		nonce, _, _ := strings.Cut(rest, "'")
		assert.Contains(t, html.UnescapeString(string(body)), `<script nonce="`+nonce+`" src="/webclients/app.js">`, "index fallback carries the nonce")
		assert.Contains(t, string(body), "us02")
		assert.NotEmpty(t, resp.Header.Get("Strict-Transport-Security"))
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

		resp2, _ := do(t, nil, http.MethodGet, tp.urls["us02"]+"/webclients/projects/7", nil, nil)
		assert.NotEqual(t, csp, resp2.Header.Get("Content-Security-Policy"), "a fresh nonce per request")

		resp, body = do(t, nil, http.MethodGet, tp.urls["us02"]+"/webclients/app.js", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, string(body), "fetch(")
	})

	t.Run("CORS on the API host", func(t *testing.T) {
		origin := tp.urls["us01"]
		resp, _ := do(t, nil, http.MethodOptions, api+"/rest/v1.0/me", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "procore-company-id",
		}, nil)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		resp, _ = do(t, nil, http.MethodOptions, api+"/rest/v1.0/me", map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
		}, nil)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("upload: single PUT stored byte for byte", func(t *testing.T) {
		data := random(t, 1<<20+7)
		target := tp.urls["storage"] + "/rest/v2.1/companies/2/projects/7/uploads/single-1"
		resp, body := do(t, nil, http.MethodPut, tp.sign("upload", http.MethodPut, target, time.Minute), nil, bytes.NewReader(data))
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		assert.NotEmpty(t, resp.Header.Get("ETag"))
		assert.Equal(t, data, tp.object(t, "us02", "2", "single-1", 0), "company 2's upload lands in us02")
	})

	t.Run("upload: parts stored byte for byte", func(t *testing.T) {
		parts := [][]byte{random(t, 300_000), random(t, 70_001)}
		for i, p := range parts {
			target := tp.urls["storage"] + "/rest/v2.1/companies/3/projects/7/uploads/multi-1/parts/" + string(rune('1'+i))
			resp, body := do(t, nil, http.MethodPut, tp.sign("upload", http.MethodPut, target, time.Minute), nil, bytes.NewReader(p))
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		}
		for i, p := range parts {
			assert.Equal(t, p, tp.object(t, "uk01", "3", "multi-1", i+1), "part %d", i+1)
		}
	})

	t.Run("upload: bad, tampered and expired signatures are 403 problems", func(t *testing.T) {
		target := tp.urls["storage"] + "/rest/v2.1/companies/1/projects/7/uploads/bad-1"
		signed := tp.sign("upload", http.MethodPut, target, time.Minute)
		past := func() time.Time { return time.Now().Add(-time.Hour) }
		for name, c := range map[string]struct{ url, code string }{
			"unsigned":       {target, "signature_missing"},
			"bad signature":  {signed[:len(signed)-1] + flip(signed[len(signed)-1]), "signature_mismatch"},
			"tampered path":  {strings.Replace(signed, "bad-1", "bad-2", 1), "signature_mismatch"},
			"other key":      {tp.sign("objects", http.MethodPut, target, time.Minute), "signature_mismatch"},
			"signed for GET": {tp.sign("upload", http.MethodGet, target, time.Minute), "signature_mismatch"},
			"expired":        {tp.sign("upload", http.MethodPut, target, time.Minute, hmacsig.WithClock(past)), "signature_expired"},
		} {
			resp, body := do(t, nil, http.MethodPut, c.url, nil, strings.NewReader("data"))
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
			assert.Equal(t, c.code, problemCode(t, resp, body), name)
		}
		resp, body := do(t, nil, http.MethodGet, tp.urls["objects"]+"/objects/us01/1/7/bad-1", nil, nil)
		assert.Equal(t, "signature_missing", problemCode(t, resp, body), "the object store takes presigned URLs only")
	})

	t.Run("keys: files of mode 0600, never in the banner or the logs", func(t *testing.T) {
		for _, name := range reference.KeyNames {
			fi, err := os.Stat(reference.KeyFile(tp.keys, name))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
			key, err := hmacsig.LoadKey("", reference.KeyFile(tp.keys, name))
			require.NoError(t, err)
			assert.NotContains(t, tp.banner.String(), hex.EncodeToString(key))
			assert.NotContains(t, tp.logs.String(), hex.EncodeToString(key))
		}
		logs := tp.logs.String()
		assert.NotContains(t, logs, "sig=")
		assert.NotContains(t, logs, "expires_at")
		assert.NotContains(t, logs, passport.DefaultCookie+"=")
		assert.Contains(t, logs, "company=1", "the access log does work")
	})
}

// object reads an object of company's project 7 back from the object store.
func (tp *topology) object(t *testing.T, zoneName, company, id string, part int) []byte {
	t.Helper()
	u := tp.urls["objects"] + standin.ObjectPath(zoneName, upload.Params{CompanyID: company, ProjectID: "7", UploadID: id, PartNumber: part})
	resp, body := do(t, nil, http.MethodGet, tp.sign("objects", http.MethodGet, u, time.Minute), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	return body
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

// A directory file is the user's: its web_base_url is served as written,
// whatever the ports.
func TestDirectoryFileWebBaseURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "directory.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"1":{"zone":"us01","web_base_url":"https://us01.example.com"}}`), 0o600))
	tp := start(t, false, func(c *config) { c.directory = file })
	resp, body := do(t, nil, http.MethodGet, tp.urls["api"]+"/rest/v1.0/company_base_url", map[string]string{"Procore-Company-Id": "1"}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	assert.JSONEq(t, `{"zone":"us01","web_base_url":"https://us01.example.com"}`, string(body))
}

func TestTLSFloor(t *testing.T) {
	tp := start(t, true)
	u := tp.urls["api-tls"] + "/rest/v1.0/company_base_url"
	require.True(t, strings.HasPrefix(u, "https://"))
	client := func(max uint16) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // the certificate is self-signed
			MinVersion:         tls.VersionTLS10,
			MaxVersion:         max,
		}}}
	}
	resp, body := do(t, client(tls.VersionTLS12), http.MethodGet, u, map[string]string{"Procore-Company-Id": "1"}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	assert.Equal(t, uint16(tls.VersionTLS12), resp.TLS.Version)
	// A page reached over TLS is sent to the zone's TLS web front, never to
	// plain http (nor to https on the plain front's port).
	assert.JSONEq(t, `{"zone":"us01","web_base_url":"`+tp.urls["us01-tls"]+`"}`, string(body))

	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	_, err = client(tls.VersionTLS11).Do(req)
	assert.Error(t, err, "TLS 1.1 is refused at the handshake")
}

// TestShutdownDrainsUploads stops the topology while an upload is half sent:
// the upload still completes and is stored whole, and run returns cleanly.
func TestShutdownDrainsUploads(t *testing.T) {
	tp := start(t, false)
	data := random(t, 256<<10)
	target := tp.sign("upload", http.MethodPut, tp.urls["storage"]+"/rest/v2.1/companies/1/projects/7/uploads/drain-1", time.Minute)

	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPut, target, pr)
	require.NoError(t, err)
	req.ContentLength = int64(len(data))
	// With 100-continue the client sends the body only once the upload
	// handler reads it, so the first Write below returns only when the
	// upload is in flight on the server's side.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()

	_, err = pw.Write(data[:len(data)/2])
	require.NoError(t, err)
	tp.stop()
	_, err = pw.Write(data[len(data)/2:])
	require.NoError(t, err)
	require.NoError(t, pw.Close())

	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	require.NoError(t, <-tp.done, "run returns cleanly after draining")
	tp.done <- nil // for the cleanup
	// The object store has stopped too: read the file it wrote.
	stored, err := os.ReadFile(filepath.Join(tp.objects, "us01", "1", "7", "drain-1"))
	require.NoError(t, err)
	assert.Equal(t, data, stored)
}
