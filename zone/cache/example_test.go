package cache_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/cache"
)

// A Cache in front of a Coalescer, after the stages that set the company
// and the principal: the first request fills the cache, the second is a
// hit, and a purge of the company empties it.
func Example() {
	now := func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) }
	co, err := cache.NewCoalescer()
	if err != nil {
		log.Fatal(err)
	}
	ca, err := cache.NewCache(cache.WithClock(now), cache.WithMaxBodySize(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, s-maxage=60")
		w.Header().Set("Content-Length", "8")
		io.WriteString(w, "projects")
	})
	h := ca.Middleware(co.Middleware(cell))
	ask := func() {
		r := httptest.NewRequest("GET", "/rest/v1.0/projects", nil)
		// In a gateway, zone.DetectCompany and passport's gateway set these.
		r = r.WithContext(edge.ContextWithPrincipal(zone.ContextWithCompany(r.Context(), "42"), "session:a"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Body.String(), "|", rec.Header().Get("Cache-Status"))
	}
	ask()
	ask()
	fmt.Println("purged", ca.Purge(zone.Purge{Company: "42"}))
	ask()
	// Output:
	// projects | cellgate; fwd=uri-miss; stored
	// projects | cellgate; hit; ttl=60
	// purged 1
	// projects | cellgate; fwd=uri-miss; stored
}
