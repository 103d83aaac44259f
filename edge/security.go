package edge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var cspNonceKey = NewKey[string]("edge.csp_nonce")

// CSPNonceFromContext returns the Content-Security-Policy nonce of the request, for
// templates (<script nonce="{{.Nonce}}">), or "" when the policy has none.
func CSPNonceFromContext(ctx context.Context) string { return cspNonceKey.Value(ctx) }

// SecurityHeaders sets the headers every page should carry:
// Content-Security-Policy ([DefaultCSP] unless [WithCSP] or [WithoutCSP];
// every {nonce} is replaced with 128 fresh random bits per request, also
// available through [CSPNonceFromContext]), Strict-Transport-Security
// ([WithHSTS], one year with subdomains by default; [WithoutHSTS]),
// X-Content-Type-Options: nosniff and Referrer-Policy ([WithReferrerPolicy],
// [WithoutReferrerPolicy]).
//
// An invalid option is an error.
func SecurityHeaders(opts ...SecurityHeadersOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("SecurityHeaders", opts, SecurityHeadersOption.securityHeadersOption)
	if err != nil {
		return nil, err
	}
	hsts := ""
	if c.hsts > 0 {
		hsts = "max-age=" + strconv.FormatInt(int64(c.hsts/time.Second), 10) + "; includeSubDomains"
	}
	withNonce := strings.Contains(c.csp, "{nonce}")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			if c.csp != "" {
				policy := c.csp
				if withNonce {
					var b [16]byte
					rand.Read(b[:])
					nonce := base64.StdEncoding.EncodeToString(b[:])
					policy = strings.ReplaceAll(policy, "{nonce}", nonce)
					r = r.WithContext(cspNonceKey.With(r.Context(), nonce))
				}
				h.Set("Content-Security-Policy", policy)
			}
			if hsts != "" {
				h.Set("Strict-Transport-Security", hsts)
			}
			h.Set("X-Content-Type-Options", "nosniff")
			if c.referrer != "" {
				h.Set("Referrer-Policy", c.referrer)
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}
