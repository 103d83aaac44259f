package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/ratelimit"
)

// Two requests a second in bursts of two, per company and principal: the
// third request of one signed-in user is refused, another user's is not.
func Example() {
	limit, err := ratelimit.New(2, 2)
	if err != nil {
		panic(err)
	}
	h := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	as := func(principal string) int {
		r := httptest.NewRequest(http.MethodGet, "/projects", nil)
		ctx := edge.ContextWithPrincipal(zone.ContextWithCompany(r.Context(), "42"), principal)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(ctx))
		return w.Code
	}
	fmt.Println(as("session:a"), as("session:a"), as("session:a"), as("session:b"))
	// Output: 200 200 429 200
}
