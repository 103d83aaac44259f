package zone

import (
	"context"
	"sync"
	"testing"
)

func TestCachingDirectoryInvalidateAll(t *testing.T) {
	current := us01
	var mu sync.Mutex
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		mu.Lock()
		defer mu.Unlock()
		if company == "404" {
			return Zone{}, unknownCompany(company)
		}
		return current, nil
	}}
	c := newTestCache(t, dir, newFakeClock())
	c.Lookup(context.Background(), "3")
	c.Lookup(context.Background(), "4")
	c.Lookup(context.Background(), "404")
	mu.Lock()
	current = us02
	mu.Unlock()
	c.InvalidateAll()
	for _, id := range []string{"3", "4"} {
		if z, _ := c.Lookup(context.Background(), id); z != us02 {
			t.Fatalf("after InvalidateAll, %s: %v, want us02", id, z)
		}
	}
	if c.zones.Len() != 2 || c.unknown.Len() != 0 {
		t.Fatalf("entries: %d zones, %d unknown", c.zones.Len(), c.unknown.Len())
	}
}
