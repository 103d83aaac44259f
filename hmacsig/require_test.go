package hmacsig

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestRequire(t *testing.T) {
	v, err := NewVerifier(Keys{Current: testKey, Previous: otherKey, ByID: map[string][]byte{"k1": testKey}},
		WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	const path = "/uploads/01HZX3"
	cases := []struct {
		name, method, target string
		status               int
		code, keyID          string
	}{
		{"current", "PUT", signed(t, testKey, "PUT", path, "", time.Minute), 200, "", "current"},
		{"previous", "PUT", signed(t, otherKey, "PUT", path, "", time.Minute), 200, "", "previous"},
		{"named", "PUT", signed(t, testKey, "PUT", path, "", time.Minute, WithKeyID("k1")), 200, "", "k1"},
		{"malformed", "PUT", path + "?a=%zz", 403, "signature_malformed", ""},
		{"missing", "PUT", path, 403, "signature_missing", ""},
		{"expired", "PUT", signedAt(t, testNow-7200, testKey, "PUT", path, "", time.Hour), 403, "signature_expired", ""},
		{"too long", "PUT", signed(t, testKey, "PUT", path, "", 30*24*time.Hour), 403, "signature_lifetime_too_long", ""},
		{"mismatch", "GET", signed(t, testKey, "PUT", path, "", time.Minute), 403, "signature_mismatch", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			called := false
			h := edge.Chain(
				must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))),
				must.Build(Require(v)),
			)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				if got := KeyIDFromContext(r.Context()); got != c.keyID {
					t.Errorf("KeyIDFromContext = %q, want %q", got, c.keyID)
				}
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))

			if rec.Code != c.status || called != (c.status == 200) {
				t.Fatalf("status %d, handler called %v; want %d", rec.Code, called, c.status)
			}
			if c.code != "" {
				var body struct{ Code string }
				if ct := rec.Header().Get("Content-Type"); ct != edge.ContentTypeProblem {
					t.Fatalf("Content-Type %q", ct)
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != c.code {
					t.Fatalf("body %s (%v), want code %s", rec.Body, err, c.code)
				}
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("access log %q: %v", logs.String(), err)
			}
			if c.keyID != "" && line["key_id"] != c.keyID {
				t.Fatalf("access log key_id = %v, want %s", line["key_id"], c.keyID)
			}
			if c.code != "" && line["problem"] != c.code {
				t.Fatalf("access log problem = %v, want %s", line["problem"], c.code)
			}
		})
	}
}

func TestContextWithKeyID(t *testing.T) {
	ctx := context.Background()
	if got := KeyIDFromContext(ctx); got != "" {
		t.Fatalf("empty context: %q", got)
	}
	if got := KeyIDFromContext(ContextWithKeyID(ctx, "k9")); got != "k9" {
		t.Fatalf("got %q", got)
	}
}

// Neither key, in any encoding, nor a signature (expected or presented)
// reaches a log line, an error or a problem body, whatever fails.
func TestNoSecretsInLogsErrorsOrBodies(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := NewVerifier(Keys{Current: testKey, ByID: map[string][]byte{"k1": otherKey}},
		WithClock(fixedClock(testNow)), WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	h := edge.Chain(must.Build(edge.AccessLog(edge.WithLogger(logger))), must.Build(Require(v)))(http.NotFoundHandler())

	const path = "/files/a"
	good := signed(t, testKey, "PUT", path, "x=1", time.Minute)
	targets := []struct{ method, target string }{
		{"GET", good}, // wrong method
		{"PUT", strings.Replace(good, "x=1", "x=2", 1)},    // tampered
		{"PUT", replaceSig(good, flipHex(sigOf(good)))},    // wrong sig
		{"PUT", replaceSig(good, sigOf(good)[:63])},        // malformed sig
		{"PUT", good + "&extra=1"},                         // unsigned parameter
		{"PUT", strings.Replace(good, "?", "?kid=k2&", 1)}, // unknown kid
		{"PUT", strings.Replace(good, "?", "?kid=k1&", 1)}, // other key
		{"PUT", good + "&a=%zz"},                           // malformed
		{"PUT", signedAt(t, testNow-7200, testKey, "PUT", path, "", time.Hour)},
		{"PUT", signed(t, testKey, "PUT", path, "", 30*24*time.Hour)},
	}
	var seen bytes.Buffer // every error text and problem body
	var secrets []string
	for _, k := range [][]byte{testKey, otherKey} {
		secrets = append(secrets, hexLower(k), strings.ToUpper(hexLower(k)), b64(k), b64url(k), string(k))
	}
	for _, c := range targets {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.target, nil))
		if rec.Code != http.StatusForbidden {
			t.Fatalf("%s %s: status %d", c.method, c.target, rec.Code)
		}
		seen.Write(rec.Body.Bytes())
		r := request(c.method, c.target)
		err := v.Verify(r)
		seen.WriteString(err.Error())

		presented := sigOf(c.target)
		secrets = append(secrets, presented, strings.ToUpper(presented))
		// The signature the verifier computed, under every key it has.
		s := getScratch()
		if _, cerr := s.canonicalise(c.method, strings.SplitN(c.target, "?", 2)[0], strings.SplitN(c.target, "?", 2)[1]); cerr == nil {
			for _, k := range [][]byte{testKey, otherKey} {
				newMACKey("", k).sum(&s.sum, s.sts)
				secrets = append(secrets, hexLower(s.sum[:]))
			}
		}
		putScratch(s)
	}
	if !strings.Contains(logs.String(), "signature_mismatch") || !strings.Contains(logs.String(), "signed URL rejected") {
		t.Fatalf("the logs do not show the failures:\n%s", logs.String())
	}
	for _, where := range []struct{ name, text string }{{"logs", logs.String()}, {"errors and bodies", seen.String()}} {
		for _, s := range secrets {
			if len(s) >= 32 && strings.Contains(where.text, s) {
				t.Fatalf("%s contain a secret %q:\n%s", where.name, s, where.text)
			}
		}
		if strings.Contains(where.text, "x=1") || strings.Contains(where.text, "expires_at") {
			t.Fatalf("%s contain the query:\n%s", where.name, where.text)
		}
	}
}

func TestRequireNilVerifierPanicsAtWiring(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("must.Build(Require(nil)) did not panic")
		}
	}()
	must.Build(Require(nil))
}
