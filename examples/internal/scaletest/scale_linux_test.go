package scaletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
)

// Within is how soon a revocation or a directory change made anywhere must
// take effect on every replica (DESIGN.md, "Scale-out").
const within = time.Second

// Web base URLs of the test directory's zones.
const (
	us01URL = "https://us01.scaletest.invalid"
	us02URL = "https://us02.scaletest.invalid"
)

func TestScaleOutOnRedis(t *testing.T) {
	rds := redistest.Start(t) // skips without redis-server, fails in CI
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	keys := t.TempDir()
	// Generated here, so that no two processes race to create a key.
	sessionsKey, err := reference.LoadKey(keys, "sessions")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reference.LoadKey(keys, "auth"); err != nil {
		t.Fatal(err)
	}
	// With notices.key every service signs its Redis notices and drops
	// unsigned ones.
	noticeKey, err := reference.LoadKey(keys, reference.NoticesKeyName)
	if err != nil {
		t.Fatal(err)
	}
	directory := filepath.Join(t.TempDir(), "directory.json")
	writeDirectory(t, directory, map[string]zone.Zone{
		"1": {Name: "us01", WebBaseURL: us01URL},
		"2": {Name: "us02", WebBaseURL: us02URL},
	})

	// The cell of us01 reports whether a passport reached it.
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"passport": r.Header.Get("Authorization") != "",
			"company":  r.Header.Get(zone.HeaderCompany),
		})
	}))
	defer cell.Close()

	shared := []string{"-redis", rds.Addr(), "-keys", keys, "-directory", directory}
	// Every main listens on port 0 and says which port it got; each is
	// started once what it calls is known.
	sessions := start(t, "sessionstorage", filepath.Join(bin, "sessionstorage"),
		"-addr", "127.0.0.1:0", "-redis", rds.Addr(), "-keys", keys)
	sessionsAddr := sessions.listening(t, "sessions")
	auth := start(t, "authentication", filepath.Join(bin, "authentication"),
		append([]string{"-addr", "127.0.0.1:0"}, shared...)...)
	authAddr := auth.listening(t, "authentication")
	type gateway struct{ public, internal string }
	gws := map[string]gateway{}
	var gwProcs []*proc
	for _, name := range []string{"A", "B"} {
		p := start(t, "gateway "+name, filepath.Join(bin, "gateway"), append([]string{
			"-zone", "us01", "-addr", "127.0.0.1:0", "-internal-addr", "127.0.0.1:0",
			"-auth-url", "http://" + authAddr + reference.PassportsPath, "-cell-url", cell.URL,
		}, shared...)...)
		gwProcs = append(gwProcs, p)
		gws[name] = gateway{public: p.listening(t, "us01"), internal: p.listening(t, "us01-internal")}
	}
	routers := map[string]string{}
	var routerProcs []*proc
	for _, name := range []string{"R1", "R2"} {
		p := start(t, "cellrouter "+name, filepath.Join(bin, "cellrouter"),
			"-addr", "127.0.0.1:0", "-gateway", "us01=http://"+gws["A"].internal, // only its directory is under test
			"-redis", rds.Addr(), "-directory", directory, "-keys", keys)
		routerProcs = append(routerProcs, p)
		routers[name] = p.listening(t, "api")
	}
	sessions.waitHTTP(t, "http://"+sessionsAddr+"/")
	auth.waitHTTP(t, "http://"+authAddr+reference.JWKSPath)
	for i, name := range []string{"A", "B"} {
		gwProcs[i].waitHTTP(t, "http://"+gws[name].public+"/health")
	}
	for i, name := range []string{"R1", "R2"} {
		routerProcs[i].waitHTTP(t, "http://"+routers[name]+"/")
	}

	// Sign in: a login service writes the session through the signed
	// session storage API.
	signer, err := hmacsig.NewSigner(sessionsKey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := passport.NewStoreClient(passport.Endpoint{URL: "http://" + sessionsAddr, Transport: &hmacsig.Transport{Signer: signer, Base: edge.NewTransport()}})
	if err != nil {
		t.Fatal(err)
	}
	token, now := passport.NewToken(), time.Now()
	sess := passport.Session{ID: passport.NewSessionID(), User: "alice", Companies: []string{"1"}, Created: now, Expires: now.Add(time.Hour)}
	if err := store.Put(ctx, passport.TokenKey(token), sess); err != nil {
		t.Fatalf("put session: %v", err)
	}

	client := &http.Client{Timeout: 2 * time.Second}
	get := func(url string, header http.Header) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header = header
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, body, err
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	project := func(g gateway) string { return "http://" + g.public + "/rest/v1.0/companies/1/projects" }

	// Both replicas mint (through authentication, from Redis) and cache a
	// passport for the session.
	for _, name := range []string{"A", "B"} {
		for range 2 { // the second is served from the replica's cache
			status, body, err := get(project(gws[name]), bearer.Clone())
			if err != nil || status != http.StatusOK {
				t.Fatalf("gateway %s before revocation: %d %s %v", name, status, body, err)
			}
			var seen struct {
				Passport bool   `json:"passport"`
				Company  string `json:"company"`
			}
			if err := json.Unmarshal(body, &seen); err != nil || !seen.Passport || seen.Company != "1" {
				t.Fatalf("gateway %s: the cell saw %s (%v)", name, body, err)
			}
		}
	}

	// Revoke on the session storage; gateway B, which has the passport
	// cached for a minute, must refuse the session within a second.
	begin := time.Now()
	if err := store.Revoke(ctx, sess.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	revoked := time.Since(begin)
	refused := func(g gateway) func() error {
		return func() error {
			status, body, err := get(project(g), bearer.Clone())
			if err != nil {
				return err
			}
			if code := problemCode(body); status != http.StatusUnauthorized || code != "session_revoked" {
				return fmt.Errorf("%w: %d %s", errPending, status, code)
			}
			return nil
		}
	}
	if _, err := poll(within, refused(gws["B"])); err != nil {
		t.Fatalf("gateway B still serves the revoked session: %v", err)
	}
	latency := time.Since(begin)
	t.Logf("revocation: API call %v; gateway B refused (401 session_revoked) %v after the call began", revoked, latency)
	if _, err := poll(within, refused(gws["A"])); err != nil {
		t.Fatalf("gateway A still serves the revoked session: %v", err)
	}

	// Directory: both routers answer company 2's zone from their caches,
	// and gateway B (us01) refuses company 2 as another zone's.
	baseURL := func(router string) (string, error) {
		status, body, err := get("http://"+router+"/rest/v1.0/company_base_url", http.Header{zone.DefaultCompanyHeader: {"2"}})
		if err != nil {
			return "", err
		}
		var z zone.Zone
		if err := json.Unmarshal(body, &z); err != nil || status != http.StatusOK {
			return "", fmt.Errorf("%d %s", status, body)
		}
		return z.WebBaseURL, nil
	}
	company2 := "http://" + gws["B"].public + "/rest/v1.0/companies/2/projects"
	gatewayB := func(wantStatus int, wantCode string) error {
		status, body, err := get(company2, http.Header{})
		if err == nil && (status != wantStatus || problemCode(body) != wantCode) {
			err = fmt.Errorf("%w: %d %s", errPending, status, body)
		}
		return err
	}
	for name, addr := range routers {
		if u, err := baseURL(addr); err != nil || u != us02URL {
			t.Fatalf("router %s before the move: company 2 at %q (%v)", name, u, err)
		}
	}
	if err := gatewayB(http.StatusMisdirectedRequest, "zone_misdirected"); err != nil {
		t.Fatalf("gateway B before the move: %v", err)
	}
	// Company 2 moves to us01: the file changes, the caches still say us02.
	writeDirectory(t, directory, map[string]zone.Zone{
		"1": {Name: "us01", WebBaseURL: us01URL},
		"2": {Name: "us01", WebBaseURL: us01URL},
	})
	for name, addr := range routers {
		if u, err := baseURL(addr); err != nil || u != us02URL {
			t.Fatalf("router %s served %q (%v) before any notice: its cache is not in play", name, u, err)
		}
	}
	if err := gatewayB(http.StatusMisdirectedRequest, "zone_misdirected"); err != nil {
		t.Fatalf("gateway B before any notice: its cache is not in play: %v", err)
	}
	rc, err := reference.NewRedisClient("scaletest", []string{rds.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	notices, err := redisnotice.New(rc, redisnotice.WithNoticeKey(noticeKey, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer notices.Close()
	begin = time.Now()
	if err := notices.Publish(ctx, "2"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	for name, addr := range routers {
		if _, err := poll(within-time.Since(begin), func() error {
			u, err := baseURL(addr)
			if err == nil && u != us01URL {
				err = fmt.Errorf("%w: company 2 at %s", errPending, u)
			}
			return err
		}); err != nil {
			t.Fatalf("router %s did not follow the move: %v", name, err)
		}
	}
	t.Logf("directory notice: both routers serve the new zone %v after the publish", time.Since(begin))
	// The gateways of us01 watch the directory too: company 2 is theirs
	// now, so gateway B asks for a session instead of refusing the zone.
	if _, err := poll(within-time.Since(begin), func() error { return gatewayB(http.StatusUnauthorized, "session_missing") }); err != nil {
		t.Fatalf("gateway B still takes company 1: %v", err)
	}

	// Redis goes down. Gateway B may serve a passport it has cached only
	// while its revocation notices are proven fresh (a second); then it
	// asks authentication, which cannot read the store: fail closed (the
	// authentication service answers 503 session_store_unavailable, which
	// the gateway passes on as it is), for cached and uncached sessions
	// alike, and so is the session storage API. When Redis is back,
	// service resumes by itself.
	newSession := func(user string) (token string, err error) {
		token, now := passport.NewToken(), time.Now()
		s := passport.Session{ID: passport.NewSessionID(), User: user, Companies: []string{"1"}, Created: now, Expires: now.Add(time.Hour)}
		return token, store.Put(ctx, passport.TokenKey(token), s)
	}
	answers := func(g gateway, token string, wantStatus int, wantCode string) func() error {
		return func() error {
			status, body, err := get(project(g), http.Header{"Authorization": {"Bearer " + token}})
			if err == nil && (status != wantStatus || problemCode(body) != wantCode) {
				err = fmt.Errorf("%w: %d %s", errPending, status, body)
			}
			return err
		}
	}
	cachedToken, err := newSession("bob")
	if err != nil {
		t.Fatalf("put session: %v", err)
	}
	uncachedToken, err := newSession("carol")
	if err != nil {
		t.Fatalf("put session: %v", err)
	}
	if err := answers(gws["B"], cachedToken, http.StatusOK, "")(); err != nil {
		t.Fatalf("gateway B, before the outage: %v", err)
	}
	rds.Kill()
	begin = time.Now()
	if _, err := poll(10*time.Second, answers(gws["B"], cachedToken, http.StatusServiceUnavailable, "session_store_unavailable")); err != nil {
		t.Fatalf("gateway B, Redis down: a cached passport must stop being served past the notice bound: %v", err)
	}
	t.Logf("outage: a cached session refused (503 session_store_unavailable) %v after Redis died", time.Since(begin))
	begin = time.Now()
	if err := answers(gws["B"], uncachedToken, http.StatusServiceUnavailable, "session_store_unavailable")(); err != nil {
		t.Fatalf("gateway B, Redis down: a session it has not cached must be refused: %v", err)
	}
	t.Logf("outage: an uncached session refused (503 session_store_unavailable) in %v", time.Since(begin))
	if _, err := store.Get(ctx, passport.TokenKey(uncachedToken)); !errors.Is(err, passport.ErrSessionStoreUnavailable) {
		t.Fatalf("session storage API, Redis down: %v, want session_store_unavailable", err)
	}
	rds.Restart() // without persistence: every session is gone
	begin = time.Now()
	var resumedToken string
	if _, err := poll(10*time.Second, func() (err error) {
		resumedToken, err = newSession("dave")
		return err
	}); err != nil {
		t.Fatalf("session storage did not resume after Redis came back: %v", err)
	}
	if _, err := poll(10*time.Second, answers(gws["B"], resumedToken, http.StatusOK, "")); err != nil {
		t.Fatalf("gateway B did not resume after Redis came back: %v", err)
	}
	t.Logf("outage: sessions stored and served again %v after Redis restarted", time.Since(begin))
}

// writeDirectory replaces the directory file at path in one rename, so a
// process reading it never sees half of it.
func writeDirectory(t *testing.T, path string, companies map[string]zone.Zone) {
	t.Helper()
	b, err := json.Marshal(companies)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// problemCode returns the code of an RFC 9457 problem body, or "".
func problemCode(body []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Code
}
