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
			assert.Equal(t, tt.token, takeCookie(h, DefaultCookie, tt.remove))
			assert.Equal(t, tt.left, h["Cookie"])
		})
	}
}
