package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/passport"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser tests drive the web client (examples/reference/webclients)
// in headless Chromium against the running topology. They skip when no
// Chromium is installed, and fail under CI=true, where .ci/run installs it.
// Run them alone with: go -C examples test ./topology -run Browser

// browserTimeout bounds each browser test, Chromium's start included.
const browserTimeout = 90 * time.Second

// browser is a headless Chromium with one tab, and what its pages reported.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []string // console errors, uncaught exceptions, error log entries
}

// cspListener records every securitypolicyviolation of a document from
// before its first script runs (scripts the browser injects are not subject
// to the page's CSP).
const cspListener = `window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber));`

// chromium returns the path of Chromium, or skips the test when there is
// none; under CI=true a missing Chromium fails the test instead.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium)")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile, flags that keep
// it off the network, and self-signed certificates accepted (the -tls hosts).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true),
	)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)

	b := &browser{t: t, ctx: tab}
	// Listen starts the browser; the listener sees every later event.
	require.NoError(t, chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.report("console.error: " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			b.report(fmt.Sprintf("exception: %s at %s:%d", text, d.URL, d.LineNumber))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.report("log: " + ev.Entry.Text + " " + ev.Entry.URL)
			}
		}
	}))
	b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener})
		return err
	}))
	return b
}

func (b *browser) report(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, s)
}

// errors returns what the pages reported as errors so far.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// run runs steps in the tab and fails the test on error.
func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
}

// value runs a in the tab and returns its value; an error fails the test.
func value[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	require.NoError(b.t, err)
	return v
}

// eval evaluates expression in the page, awaiting a promise.
func eval[T any](b *browser, expression string) T {
	b.t.Helper()
	return value(b, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

// poll waits until expression is truthy in the page and returns it.
func poll[T any](b *browser, expression string) T {
	b.t.Helper()
	return value(b, chromedp.Poll[T](expression, chromedp.WithPollingInterval(20*time.Millisecond)))
}

// click clears the outputs, clicks the button #id and returns the text of
// #out, or the problem's code in #problem, whichever the page shows first.
func (b *browser) click(id, out string) (answer, problem string) {
	b.t.Helper()
	eval[chromedp.Void](b, `document.getElementById("problem").textContent = "";
document.getElementById(`+jsString(out)+`).textContent = ""`)
	b.run(chromedp.Click(chromedp.ID(id)))
	r := poll[struct{ Answer, Problem string }](b, `(() => {
  const a = document.getElementById(`+jsString(out)+`).textContent, p = document.getElementById("problem").textContent;
  return a || p ? {answer: a, problem: p} : null;
})()`)
	return r.Answer, r.Problem
}

// set types value into the input #id, replacing what it held.
func (b *browser) set(id, value string) {
	b.t.Helper()
	b.run(chromedp.SetValue(chromedp.ID(id), value))
}

// violations returns the CSP violations of the current document.
func (b *browser) violations() []string {
	b.t.Helper()
	return eval[[]string](b, `window.__csp || ["no listener: the page was not loaded"]`)
}

// cookie returns the session cookie the browser holds for rawURL.
func (b *browser) cookie(rawURL string) *network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	require.NoError(b.t, err)
	for _, c := range res.Cookies {
		if c.Name == passport.DefaultCookie {
			return c
		}
	}
	b.t.Fatalf("no %s cookie for %s among %d", passport.DefaultCookie, rawURL, len(res.Cookies))
	return nil
}

// fetch runs fetch(rawURL, init) in the current page and returns "read: "
// and the body, or "refused: " and the error the page saw.
func (b *browser) fetch(rawURL, init string) string {
	b.t.Helper()
	return eval[string](b, `fetch(`+jsString(rawURL)+`, `+init+`)
  .then((r) => r.text()).then((t) => "read: " + t, (e) => "refused: " + e.name + ": " + e.message)`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// openApp opens the web client at base and waits until its script ran.
func (b *browser) openApp(base string) {
	b.t.Helper()
	resp := value(b, chromedp.NavigateResponse(base+"/webclients/"))
	require.Equal(b.t, int64(http.StatusOK), resp.Status)
	var csp string
	for k, v := range resp.Headers {
		if strings.EqualFold(k, "Content-Security-Policy") {
			csp, _ = v.(string)
		}
	}
	// app.js is loaded with the CSP nonce; it reads the API base from the
	// body's data attribute and wires the buttons.
	b.run(chromedp.WaitVisible(chromedp.ID("login")))
	require.NotEmpty(b.t, eval[string](b, `document.body.dataset.api`), "the page names the API host")
	nonce := eval[string](b, `document.querySelector('script[src="/webclients/app.js"]').nonce`)
	require.NotEmpty(b.t, nonce, "app.js carries a nonce")
	assert.Contains(b.t, csp, "script-src 'self' 'nonce-"+nonce+"'", "the nonce of this response's CSP")
	assert.NotContains(b.t, csp, "unsafe-inline")
}

func TestBrowserWebJourney(t *testing.T) {
	chromium(t) // skip before the topology starts
	tp := start(t, false)
	b := newBrowser(t)
	b.openApp(tp.urls["us01"])

	session, problem := b.click("login", "session")
	require.Empty(t, problem, "sign in")
	assert.Contains(t, session, `"session_id"`)

	t.Run("the session cookie is HttpOnly and SameSite, out of the page's reach", func(t *testing.T) {
		c := b.cookie(tp.urls["api"])
		assert.True(t, c.HTTPOnly, "HttpOnly")
		assert.Equal(t, network.CookieSameSiteLax, c.SameSite)
		assert.False(t, c.Secure, "plain http: a Secure cookie would not come back")
		assert.NotContains(t, eval[string](b, `document.cookie`), passport.DefaultCookie)
	})

	t.Run("the page shows the passport claims the cell saw, through the API host", func(t *testing.T) {
		answer, problem := b.click("me", "claims")
		require.Empty(t, problem)
		var claims passport.Claims
		require.NoError(t, json.Unmarshal([]byte(answer), &claims), answer)
		assert.Equal(t, "1", claims.CompanyID)
		assert.Equal(t, "us01", claims.Zone)
		assert.Equal(t, "alice", claims.Subject)
		assert.Equal(t, []string{"us01"}, []string(claims.Audience))
	})

	t.Run("a file chosen in the page goes to the storage host with a URL the cell signed", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "report.bin")
		data := random(t, 256<<10)
		require.NoError(t, os.WriteFile(file, data, 0o600))
		b.run(chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
		answer, problem := b.click("upload", "etag")
		require.Empty(t, problem)
		var r struct {
			ETag string `json:"etag"`
			Size int    `json:"size"`
		}
		require.NoError(t, json.Unmarshal([]byte(answer), &r), answer)
		sum := md5.Sum(data)
		assert.Equal(t, `"`+hex.EncodeToString(sum[:])+`"`, r.ETag, "the object store's ETag, read through CORS")
		assert.Equal(t, len(data), r.Size)
		stored, err := filepath.Glob(filepath.Join(tp.objects, "us01", "1", "7", "web-*"))
		require.NoError(t, err)
		require.Len(t, stored, 1, "one object under the company's project")
		got, err := os.ReadFile(stored[0])
		require.NoError(t, err)
		assert.Equal(t, data, got)
	})

	t.Run("no CSP violation and no console error on the way", func(t *testing.T) {
		assert.Empty(t, b.violations())
		assert.Empty(t, b.errors())
	})

	t.Run("a company the session may not act for shows the problem's code", func(t *testing.T) {
		b.set("company", "2")
		answer, problem := b.click("me", "claims")
		assert.Empty(t, answer)
		assert.Equal(t, "company_forbidden", problem)
		answer, problem = b.click("upload", "etag")
		assert.Empty(t, answer)
		assert.Equal(t, "company_forbidden", problem, "no upload URL for another company")
	})

	t.Run("the listener sees a violation: a script without the nonce is refused", func(t *testing.T) {
		eval[chromedp.Void](b, `const s = document.createElement("script");
s.textContent = "window.__ran = true"; document.body.append(s)`)
		v := poll[[]string](b, `window.__csp.length ? window.__csp : null`)
		assert.Contains(t, v[0], "script-src")
		assert.False(t, eval[bool](b, `window.__ran === true`))
	})
}

func TestBrowserSecureCookieOverTLS(t *testing.T) {
	chromium(t) // skip before the topology starts
	tp := start(t, true)
	b := newBrowser(t)
	b.openApp(tp.urls["us01-tls"])
	require.Equal(t, tp.urls["api-tls"], eval[string](b, `document.body.dataset.api`), "a page served over TLS calls the API host over TLS")

	session, problem := b.click("login", "session")
	require.Empty(t, problem, "sign in")
	assert.Contains(t, session, `"session_id"`)

	c := b.cookie(tp.urls["api-tls"])
	assert.True(t, c.Secure, "Secure: the login reached the edge over TLS")
	assert.True(t, c.HTTPOnly, "HttpOnly")
	assert.Equal(t, network.CookieSameSiteLax, c.SameSite)

	answer, problem := b.click("me", "claims")
	require.Empty(t, problem)
	assert.Contains(t, answer, `"company_id": "1"`)
	assert.Empty(t, b.violations())
	assert.Empty(t, b.errors())
}

func TestBrowserCORSRefusesOtherOrigins(t *testing.T) {
	chromium(t) // skip before the topology starts
	tp := start(t, false)
	b := newBrowser(t)
	b.openApp(tp.urls["us01"])
	_, problem := b.click("login", "session")
	require.Empty(t, problem, "sign in")

	me := tp.urls["api"] + "/rest/v1.0/me"
	withHeader := `{credentials: "include", headers: {"Procore-Company-Id": "1"}}`
	require.Contains(t, b.fetch(me, withHeader), `read: {"service":"cell"`, "the zone's web front reads the answer")

	// Another origin: the same loopback host (so the browser sends the
	// cookie to the API, same-site) on a port CORS does not list.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>another origin</title><p id="ready">ready</p>`)
	}))
	defer other.Close()
	b.run(chromedp.Navigate(other.URL), chromedp.WaitVisible(chromedp.ID("ready")))

	assert.Equal(t, "refused: TypeError: Failed to fetch", b.fetch(me, withHeader), "the preflight is refused")
	assert.Equal(t, "refused: TypeError: Failed to fetch", b.fetch(me+"?company_id=1", `{credentials: "include"}`),
		"a simple request is sent, but its answer is not the page's to read")
}
