package edge_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestSecurityHeaders(t *testing.T) {
	tests := []struct {
		name     string
		opts     []edge.SecurityHeadersOption
		csp      string // with {nonce} where a nonce must appear
		hsts     string
		referrer string
	}{
		{
			name:     "defaults",
			csp:      edge.DefaultCSP,
			hsts:     "max-age=31536000; includeSubDomains",
			referrer: "strict-origin-when-cross-origin",
		},
		{
			name:     "custom",
			opts:     []edge.SecurityHeadersOption{edge.WithCSP("default-src 'none'"), edge.WithHSTS(24 * time.Hour), edge.WithReferrerPolicy("no-referrer")},
			csp:      "default-src 'none'",
			hsts:     "max-age=86400; includeSubDomains",
			referrer: "no-referrer",
		},
		{
			name: "switched off",
			opts: []edge.SecurityHeadersOption{edge.WithoutCSP(), edge.WithoutHSTS(), edge.WithoutReferrerPolicy()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nonce string
			h := must.Build(edge.SecurityHeaders(tt.opts...))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nonce = edge.CSPNonceFromContext(r.Context())
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			hd := rec.Header()

			wantCSP := strings.ReplaceAll(tt.csp, "{nonce}", nonce)
			if got := hd.Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("CSP = %q, want %q", got, wantCSP)
			}
			if strings.Contains(tt.csp, "{nonce}") != (nonce != "") {
				t.Errorf("nonce %q for policy %q", nonce, tt.csp)
			}
			if got := hd.Get("Strict-Transport-Security"); got != tt.hsts {
				t.Errorf("HSTS = %q, want %q", got, tt.hsts)
			}
			if got := hd.Get("Referrer-Policy"); got != tt.referrer {
				t.Errorf("Referrer-Policy = %q, want %q", got, tt.referrer)
			}
			if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
		})
	}
}

func TestCSPNonce(t *testing.T) {
	nonceRE := regexp.MustCompile(`'nonce-([A-Za-z0-9+/=]+)'`)
	var fromCtx string
	h := must.Build(edge.SecurityHeaders(edge.WithCSP("script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'")))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fromCtx = edge.CSPNonceFromContext(r.Context()) }))
	seen := make(map[string]bool)
	for range 100 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		m := nonceRE.FindAllStringSubmatch(rec.Header().Get("Content-Security-Policy"), -1)
		if len(m) != 2 || m[0][1] != m[1][1] || m[0][1] != fromCtx {
			t.Fatalf("policy nonces %v, context nonce %q: want the same nonce twice", m, fromCtx)
		}
		if len(fromCtx) != 24 { // 128 bits, standard base64
			t.Errorf("nonce %q is not 128 bits", fromCtx)
		}
		if seen[fromCtx] {
			t.Fatalf("nonce %q repeated", fromCtx)
		}
		seen[fromCtx] = true
	}
}
