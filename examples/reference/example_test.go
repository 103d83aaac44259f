package reference_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/cellgate/cellgate/examples/reference"
)

// A route moves from the legacy backend to its replacement by adding its
// pattern to the list.
func ExampleStrangler() {
	backend := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })
	}
	h, err := reference.Strangler([]string{"GET /rest/v1.0/projects/{projectId}/rfis"}, backend("legacy"), backend("replacement"))
	if err != nil {
		panic(err)
	}
	for _, path := range []string{"/rest/v1.0/projects/7/rfis", "/rest/v1.0/projects/7/submittals"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Println(path, "→", rec.Body.String())
	}
	// Output:
	// /rest/v1.0/projects/7/rfis → replacement
	// /rest/v1.0/projects/7/submittals → legacy
}
