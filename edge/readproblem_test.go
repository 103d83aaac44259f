package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// What WriteProblem writes, ReadProblem reads back: status, code, title and
// detail, through the JSON names of RFC 9457, not by case-insensitive luck.
func TestReadProblemRoundTrip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteProblem(w, r, edge.ErrUpstreamTimeout)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p, err := edge.ReadProblem(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := edge.ErrUpstreamTimeout.WithTitle(http.StatusText(http.StatusGatewayTimeout))
	if p.Status() != want.Status() || p.Code() != want.Code() || p.Detail() != want.Detail() || p.Title() != want.Title() {
		t.Fatalf("read %v, want %v", p, want)
	}
}

func TestReadProblemRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		status      int
		contentType string
		body        string
	}{
		"not a problem":   {502, "text/plain", "bad gateway"},
		"no code":         {502, edge.ContentTypeProblem, `{"status":502}`},
		"status mismatch": {502, edge.ContentTypeProblem, `{"status":200,"code":"x"}`},
		"not JSON":        {502, edge.ContentTypeProblem, `<html>`},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}},
			Body: io.NopCloser(strings.NewReader(tc.body))}
		if p, err := edge.ReadProblem(resp); err == nil {
			t.Errorf("%s: read %+v", name, p)
		}
	}
}
