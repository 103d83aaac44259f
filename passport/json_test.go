package passport

import (
	"strings"
	"testing"
)

// What the session storage API, the authentication service and the
// gateway read is read strictly: a key twice (the last would win), invalid
// UTF-8 (it would become U+FFFD) or data after the value are refused.
func TestDecodeJSONIsStrict(t *testing.T) {
	for name, body := range map[string]string{
		"key twice":      `{"id":"s","user":"a","user":"b"}`,
		"invalid UTF-8":  "{\"id\":\"s\",\"user\":\"\xff\"}",
		"trailing value": `{"id":"s"} {}`,
		"trailing junk":  `{"id":"s"}x`,
		"null":           `null`,
		"unknown field":  `{"id":"s","token":"t"}`,
	} {
		var s Session
		if err := decodeJSON(strings.NewReader(body), maxSessionBody, &s); err == nil {
			t.Errorf("%s: accepted as %+v", name, s)
		}
	}
	var s Session
	if err := decodeJSON(strings.NewReader(`{"id":"s","user":"u","companies":["1","2"]}`+"\n"), maxSessionBody, &s); err != nil || s.User != "u" {
		t.Fatalf("a valid session: %v, %+v", err, s)
	}
}
