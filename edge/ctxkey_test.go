package edge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestKey(t *testing.T) {
	name := edge.NewKey[string]("test.name")
	count := edge.NewKey[int]("test.count")
	twin := edge.NewKey[string]("test.name") // same name, different key

	full := count.With(name.With(context.Background(), "acme"), 0)
	shadowed := name.With(full, "globex")

	tests := []struct {
		desc   string
		key    *edge.Key[string]
		ctx    context.Context
		want   string
		wantOK bool
	}{
		{"empty context", name, context.Background(), "", false},
		{"set", name, full, "acme", true},
		{"same name is another key", twin, full, "", false},
		{"inner value shadows outer", name, shadowed, "globex", true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := tt.key.Value(tt.ctx); got != tt.want {
				t.Errorf("Value = %q, want %q", got, tt.want)
			}
			got, ok := tt.key.Lookup(tt.ctx)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Lookup = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}

	if v, ok := count.Lookup(full); !ok || v != 0 {
		t.Errorf("count.Lookup = %d, %v; a zero value that was set is still set", v, ok)
	}
	if name.Value(full) != "acme" {
		t.Error("With changed its parent context")
	}
	if got := name.String(); got != "test.name" {
		t.Errorf("String = %q, want test.name", got)
	}
}

type otherKey struct{}

// Attach gives what r.WithContext(k.With(ctx, v)) gives: later values
// shadow earlier ones, contexts derived in between keep their own, and the
// values of one chain share one request scope.
func TestKeyAttach(t *testing.T) {
	name := edge.NewKey[string]("test.name")
	count := edge.NewKey[int]("test.count")
	outer := context.WithValue(context.Background(), otherKey{}, "outer")
	outer = name.With(outer, "from-parent")
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(outer)

	r1 := name.Attach(r, "first")
	if r1 == r {
		t.Fatal("Attach changed the caller's request instead of returning a new one")
	}
	if got := name.Value(r.Context()); got != "from-parent" {
		t.Errorf("the original request sees %q, want from-parent", got)
	}
	r2 := count.Attach(r1, 7)
	if r2 != r1 {
		t.Error("a second Attach in the same scope copied the request")
	}
	r3 := name.Attach(r2, "second")
	for _, tt := range []struct {
		desc string
		got  any
		want any
	}{
		{"newest string", name.Value(r3.Context()), "second"},
		{"non-string", count.Value(r3.Context()), 7},
		{"parent's other values", r3.Context().Value(otherKey{}), "outer"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.desc, tt.got, tt.want)
		}
	}

	// A context derived in between is not written through: the value lands
	// in a new scope below it, and the derived context keeps what it saw.
	derived := name.With(r3.Context(), "derived")
	r4 := name.Attach(r3.WithContext(derived), "third")
	if got := name.Value(derived); got != "derived" {
		t.Errorf("derived context sees %q, want derived", got)
	}
	if got := name.Value(r4.Context()); got != "third" {
		t.Errorf("after a derived context: %q, want third", got)
	}
	if got, ok := count.Lookup(r4.Context()); !ok || got != 7 {
		t.Errorf("count under the new scope = %d, %v; want 7, true", got, ok)
	}

	// A full scope still takes values, in a new one.
	rf := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := range 20 {
		rf = count.Attach(rf, i)
	}
	if got := count.Value(rf.Context()); got != 19 {
		t.Errorf("after 20 attaches: %d, want 19", got)
	}
}

// Values attached while other goroutines read the request's context are
// seen whole or not at all (run with -race).
func TestKeyAttachConcurrentReaders(t *testing.T) {
	name := edge.NewKey[string]("test.name")
	count := edge.NewKey[int]("test.count")
	r := name.Attach(httptest.NewRequest(http.MethodGet, "/", nil), "a")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if v := name.Value(r.Context()); v != "a" && v != "b" {
					t.Errorf("read %q", v)
					return
				}
				count.Value(r.Context())
			}
		})
	}
	rr := r
	for i := range 6 {
		rr = count.Attach(rr, i)
	}
	name.Attach(rr, "b")
	wg.Wait()
}

func BenchmarkKeyAttach(b *testing.B) {
	company := edge.NewKey[string]("bench.company")
	zone := edge.NewKey[[2]string]("bench.zone")
	base := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		r := company.Attach(base, "1")
		r = zone.Attach(r, [2]string{"us01", "https://us01.example.com"})
		if company.Value(r.Context()) != "1" {
			b.Fatal("lost")
		}
	}
}

// Key.With costs one allocation, whatever the value's type (a string in
// context.WithValue would be boxed in a second), and Lookup reads it back.
func TestKeyWithAllocatesOnce(t *testing.T) {
	k := edge.NewKey[string]("test.with")
	ctx := context.Background()
	var got context.Context
	principal := strings.Repeat("session:abc", 1) // not a constant: boxing one would allocate
	allocs := testing.AllocsPerRun(100, func() { got = k.With(ctx, principal) })
	if allocs != 1 {
		t.Errorf("Key.With made %v allocations, want 1", allocs)
	}
	if v, ok := k.Lookup(got); !ok || v != "session:abc" {
		t.Errorf("Lookup = %q, %v", v, ok)
	}
	if edge.PrincipalFromContext(edge.ContextWithPrincipal(ctx, "u-1")) != "u-1" {
		t.Error("ContextWithPrincipal lost the principal")
	}
}
