package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/ratelimit"
)

// Two requests a second in bursts of two per company, shared by all its
// signed-in users, of which each user may spend one: a user's second
// request is refused by its share, and once the company's two are spent
// every user of the company waits, however many sessions it opens.
func Example() {
	limit, err := ratelimit.New(2, 2, ratelimit.WithPrincipalLimit(1, 1))
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
	fmt.Println(as("session:a"), as("session:a"), as("session:b"), as("session:c"))
	// Output: 200 429 200 429
}
