package hmacsig

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// digestVectorFile holds the shared vectors of SPEC.md, "Content digest".
// They were computed by an implementation that shares no code with this
// package or interop/sign.mjs.
const digestVectorFile = "testdata/content-digest-vectors.json"

type digestVectors struct {
	Digests []struct {
		Name          string `json:"name"`
		Body          string `json:"body"`
		ContentDigest string `json:"content_digest"`
	} `json:"digests"`
	Vectors []struct {
		Name          string `json:"name"`
		KeyHex        string `json:"key_hex"`
		Kid           string `json:"kid"`
		Method        string `json:"method"`
		Path          string `json:"path"`
		Query         string `json:"query"`
		Body          string `json:"body"`
		ContentDigest string `json:"content_digest"`
		Now           int64  `json:"now"`
		StringToSign  string `json:"string_to_sign"`
		Sig           string `json:"sig"`
	} `json:"vectors"`
	Requests []struct {
		Name          string      `json:"name"`
		Keys          []vectorKey `json:"keys"`
		Method        string      `json:"method"`
		Target        string      `json:"target"`
		ContentDigest []string    `json:"content_digest"`
		Body          string      `json:"body"`
		Now           int64       `json:"now"`
		Require       []string    `json:"require_content_digest"`
		Code          *string     `json:"code"`
	} `json:"requests"`
}

func loadDigestVectors(t testing.TB) digestVectors {
	t.Helper()
	b, err := os.ReadFile(digestVectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var v digestVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Digests) == 0 || len(v.Vectors) == 0 || len(v.Requests) == 0 {
		t.Fatalf("%s: a section is empty", digestVectorFile)
	}
	return v
}

// readAll stands for a handler behind Require: it reads the body to its end
// and answers the read error as a problem.
var readAll = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
})

func digestRequest(method, target string, digests []string, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for _, d := range digests {
		r.Header.Add(ContentDigestHeader, d)
	}
	return r
}

func TestContentDigestVectorsDigests(t *testing.T) {
	for _, c := range loadDigestVectors(t).Digests {
		if got := ContentDigest([]byte(c.Body)); got != c.ContentDigest {
			t.Errorf("%s: ContentDigest = %s, want %s", c.Name, got, c.ContentDigest)
		}
	}
}

func TestContentDigestVectors(t *testing.T) {
	for _, c := range loadDigestVectors(t).Vectors {
		t.Run(c.Name, func(t *testing.T) {
			if got := ContentDigest([]byte(c.Body)); got != c.ContentDigest {
				t.Fatalf("ContentDigest = %s, want %s", got, c.ContentDigest)
			}
			s := getScratch()
			defer putScratch(s)
			p, err := s.canonicalise(c.Method, c.Path, c.Query)
			if err != nil || !p.hasContentDigest {
				t.Fatalf("canonicalise: %v, content_digest %v", err, p.hasContentDigest)
			}
			s.appendDigestLine(c.ContentDigest)
			if got := string(s.sts); got != c.StringToSign {
				t.Fatalf("string to sign\n got %q\nwant %q", got, c.StringToSign)
			}
			newMACKey("", mustHex(t, c.KeyHex)).sum(&s.sum, s.sts)
			if got := hex.EncodeToString(s.sum[:]); got != c.Sig {
				t.Fatalf("sig = %s, want %s", got, c.Sig)
			}

			v := verifierFor(t, []vectorKey{{Kid: c.Kid, KeyHex: c.KeyHex}}, c.Now)
			rec := httptest.NewRecorder()
			must.Build(Require(v, RequireContentDigest(c.Method)))(readAll).ServeHTTP(rec,
				digestRequest(c.Method, c.Path+"?"+c.Query+"&sig="+c.Sig, []string{c.ContentDigest}, c.Body))
			if rec.Code != http.StatusNoContent {
				t.Fatalf("Require: %d %s", rec.Code, rec.Body)
			}

			// Our own signer, given the URL without the parameters it
			// appends, produces the same signed query.
			suffix := "expires_at=1893456000"
			var opts []SignerOption
			if c.Kid != "" {
				suffix += "&kid=" + c.Kid
				opts = append(opts, WithKeyID(c.Kid))
			}
			suffix += "&content_digest=sha-256"
			if !strings.HasSuffix(c.Query, suffix) {
				return
			}
			sg, err := NewSigner(mustHex(t, c.KeyHex), append(opts, WithClock(fixedClock(c.Now)))...)
			if err != nil {
				t.Fatal(err)
			}
			q, err := sg.signContent(c.Method, c.Path, strings.TrimSuffix(strings.TrimSuffix(c.Query, suffix), "&"),
				c.ContentDigest, time.Duration(1893456000-c.Now)*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.Query + "&sig=" + c.Sig; q != want {
				t.Fatalf("Signer query = %q, want %q", q, want)
			}
		})
	}
}

func TestContentDigestRequests(t *testing.T) {
	for _, c := range loadDigestVectors(t).Requests {
		t.Run(c.Name, func(t *testing.T) {
			v := verifierFor(t, c.Keys, c.Now)
			var opts []RequireOption
			if len(c.Require) > 0 {
				opts = append(opts, RequireContentDigest(c.Require...))
			}
			rec := httptest.NewRecorder()
			must.Build(Require(v, opts...))(readAll).ServeHTTP(rec, digestRequest(c.Method, c.Target, c.ContentDigest, c.Body))
			if c.Code == nil {
				if rec.Code != http.StatusNoContent {
					t.Fatalf("got %d %s, want success", rec.Code, rec.Body)
				}
				return
			}
			var p struct{ Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != *c.Code || rec.Code != http.StatusForbidden {
				t.Fatalf("got %d %s, want 403 %s", rec.Code, rec.Body, *c.Code)
			}
		})
	}
}
