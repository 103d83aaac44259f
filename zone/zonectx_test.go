package zone

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
)

// ContextWithZone returns a copy: the parent keeps what it had, and the
// newest zone wins, whether it was attached to the request or put in a
// context.
func TestZoneContextAndRequest(t *testing.T) {
	a, b := Zone{Name: "us01", WebBaseURL: "https://us01.example"}, Zone{Name: "uk01"}
	parent := context.Background()
	ctx := ContextWithZone(parent, a)
	if _, ok := ZoneFromContext(parent); ok {
		t.Fatal("ContextWithZone changed its parent")
	}
	if got, ok := ZoneFromContext(ctx); !ok || got != a {
		t.Fatalf("ZoneFromContext = %+v, %v; want %+v", got, ok, a)
	}
	if got, ok := ZoneFromContext(ContextWithZone(ctx, b)); !ok || got != b {
		t.Fatalf("newer zone: got %+v, %v; want %+v", got, ok, b)
	}

	r := RequestWithZone(httptest.NewRequest("GET", "/", nil), a)
	if got, ok := ZoneFromContext(r.Context()); !ok || got != a {
		t.Fatalf("RequestWithZone: got %+v, %v; want %+v", got, ok, a)
	}
	r = RequestWithZone(r, b)
	if got, _ := ZoneFromContext(r.Context()); got != b {
		t.Fatalf("second RequestWithZone: got %+v, want %+v", got, b)
	}
	if got, _ := ZoneFromContext(ContextWithZone(r.Context(), a)); got != a {
		t.Fatalf("ContextWithZone over an attached zone: got %+v, want %+v", got, a)
	}
}

// Interned zones are shared and never changed: what a request reads is the
// zone it was given, with any number of zones and goroutines, past the
// intern table's bound too.
func TestInternZones(t *testing.T) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range maxInterned + 200 {
				z := Zone{Name: fmt.Sprintf("z%d", i), WebBaseURL: fmt.Sprintf("https://%d.example/%d", i, w%2)}
				r := RequestWithZone(httptest.NewRequest("GET", "/", nil), z)
				if got, ok := ZoneFromContext(r.Context()); !ok || got != z {
					t.Errorf("got %+v, %v; want %+v", got, ok, z)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(*interned.Load()); n > maxInterned {
		t.Errorf("intern table holds %d zones, bound %d", n, maxInterned)
	}
	z := Zone{Name: "z1", WebBaseURL: "https://1.example/0"}
	if p, q := intern(z), intern(z); p != q || *p != z {
		t.Errorf("intern(%+v) = %p, %p (%+v): want one shared pointer to it", z, p, q, *p)
	}
}
