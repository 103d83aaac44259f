package passport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithVariantsSignsWhatTheHookAssigns(t *testing.T) {
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	var subjects []Subject
	issuer, err := NewIssuer(testIss, key, WithVariants(func(s Subject) map[string]string {
		subjects = append(subjects, s)
		return map[string]string{"checkout": "treatment", "banner": "on"}
	}))
	require.NoError(t, err)
	s := Session{ID: "s-1", User: "u-7", Companies: []string{"42"}, Expires: time.Now().Add(time.Hour)}
	token, claims, err := issuer.Mint(s, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	assert.Equal(t, []Subject{{User: "u-7", SessionID: "s-1", CompanyID: "42", Zone: testZone}}, subjects)
	assert.Equal(t, map[string]string{"checkout": "treatment", "banner": "on"}, claims.Variants)

	// The claim is in the signed payload, for any verifier.
	var parsed Claims
	_, err = jwt.ParseWithClaims(token, &parsed, func(*jwt.Token) (any, error) { return key.Public().Key, nil })
	require.NoError(t, err)
	assert.Equal(t, claims.Variants, parsed.Variants)

	// Without the option, or with no variants, there is no claim at all.
	plain, err := NewIssuer(testIss, key)
	require.NoError(t, err)
	token, claims, err = plain.Mint(s, Scope{CompanyID: "42", Zone: testZone})
	require.NoError(t, err)
	assert.Nil(t, claims.Variants)
	payload, err := jwt.NewParser().DecodeSegment(strings.Split(token, ".")[1])
	require.NoError(t, err)
	assert.NotContains(t, string(payload), "variants")
}

func TestWithVariantsRefusals(t *testing.T) {
	key, err := GenerateKey(EdDSA)
	require.NoError(t, err)
	_, err = NewIssuer(testIss, key, WithVariants(nil))
	assert.ErrorContains(t, err, "WithVariants")

	s := Session{ID: "s-1", User: "u-7", Companies: []string{"42"}, Expires: time.Now().Add(time.Hour)}
	for name, v := range map[string]map[string]string{
		"comma in a name":  {"a,b": "x"},
		"header injection": {"a": "x\r\nSet-Cookie: y"},
		"empty variant":    {"a": ""},
		"too many":         tooManyVariants(),
	} {
		t.Run(name, func(t *testing.T) {
			issuer, err := NewIssuer(testIss, key, WithVariants(func(Subject) map[string]string { return v }))
			require.NoError(t, err)
			_, _, err = issuer.Mint(s, Scope{CompanyID: "42", Zone: testZone})
			assert.ErrorContains(t, err, "WithVariants")
		})
	}
}

func tooManyVariants() map[string]string {
	m := map[string]string{}
	for i := range maxVariants + 1 {
		m["e"+strings.Repeat("x", i)] = "v"
	}
	return m
}

// TestGatewayRefusesBadVariantsFromAuth: the gateway forwards only
// variants that fit the header; anything else from the authentication
// service is a failure of that service, never a header passed on.
func TestGatewayRefusesBadVariantsFromAuth(t *testing.T) {
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteJSON(w, http.StatusOK, authResponse{Passport: "ey.x.y", KeyID: "k1", SessionID: "s-1", User: "u-7",
			ExpiresAt: time.Now().Add(time.Minute), Variants: map[string]string{"a": "x\r\nEvil: 1"}})
	})
	gw, err := NewGateway(testZone, testDirectory(t), Endpoint{URL: authURL, Transport: edge.Binding(auth)})
	require.NoError(t, err)
	detect, err := zone.DetectCompany()
	require.NoError(t, err)
	h := edge.Chain(detect, gw.Middleware)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("forwarded") }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+NewToken())
	r.Header.Set("Procore-Company-Id", "42")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, "auth_unavailable", problemCode(t, w))
}

func TestFormatVariants(t *testing.T) {
	got, err := formatVariants(map[string]string{"checkout": "treatment", "banner": "on", "a.b": "X-1"})
	require.NoError(t, err)
	assert.Equal(t, "a.b=X-1, banner=on, checkout=treatment", got)
	got, err = formatVariants(nil)
	require.NoError(t, err)
	assert.Equal(t, "", got)
}
