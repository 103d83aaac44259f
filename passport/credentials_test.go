package passport

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTakeCookie(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		remove bool
		token  string
		left   []string
	}{
		{"none", nil, true, "", nil},
		{"only", []string{"cellgate_session=abc"}, true, "abc", nil},
		{"middle", []string{"a=1; cellgate_session=abc; b=2"}, true, "abc", []string{"a=1; b=2"}},
		{"quoted", []string{`cellgate_session="abc"`}, true, "abc", nil},
		{"kept", []string{"a=1; cellgate_session=abc"}, false, "abc", []string{"a=1; cellgate_session=abc"}},
		{"two lines, twice", []string{"cellgate_session=first", "x=1; cellgate_session=second"}, true, "first", []string{"x=1"}},
		// Found by attack: a spaced name that cookie parsers trim must be
		// taken out too, never forwarded to a cell.
		{"spaced name", []string{"cellgate_session=abc", "cellgate_session =forged; a=1"}, true, "abc", []string{"a=1"}},
		{"prefix is not the name", []string{"my_cellgate_session=abc; cellgate_session2=x"}, true, "", []string{"my_cellgate_session=abc; cellgate_session2=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.lines != nil {
				h["Cookie"] = append([]string(nil), tt.lines...)
			}
			got, _ := takeCookie(h, DefaultCookie, tt.remove)
			assert.Equal(t, tt.token, got)
			assert.Equal(t, tt.left, h["Cookie"])
		})
	}
}

// Two session credentials are refused, never resolved by picking one: a
// cookie tossed in from a sibling domain comes first as easily as last
// (found by a stranger attacking v0.2: the first cookie won).
func TestGatewayRefusesTwoSessions(t *testing.T) {
	f := newFixture(t)
	token, _ := f.login(t, "u-1", "42")
	other, _ := f.login(t, "u-2", "42")
	for name, hdr := range map[string][]string{
		"two cookies":              {"Cookie", DefaultCookie + "=" + token + "; " + DefaultCookie + "=" + other},
		"two cookie lines":         {"Cookie", DefaultCookie + "=" + other, "Cookie", DefaultCookie + "=" + token},
		"two Authorization fields": {"Authorization", "Bearer " + token, "Authorization", "Bearer " + other},
	} {
		w := f.doPath("/projects", "", "42", false, hdr...)
		assert.Equal(t, "session_ambiguous", problemCode(t, w), name)
	}
	// The same cookie twice is one session; a bearer token is preferred to a
	// cookie, as documented.
	w := f.doPath("/projects", "", "42", false, "Cookie", DefaultCookie+"="+token+"; "+DefaultCookie+"="+token)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	w = f.doPath("/projects", token, "42", false, "Cookie", DefaultCookie+"="+other)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
