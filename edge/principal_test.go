package edge_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// ContextWithPrincipal returns a copy; RequestWithPrincipal attaches to the
// request; the newest principal wins either way.
func TestPrincipalContextAndRequest(t *testing.T) {
	parent := context.Background()
	ctx := edge.ContextWithPrincipal(parent, "session:a")
	if got := edge.PrincipalFromContext(parent); got != "" {
		t.Fatalf("ContextWithPrincipal changed its parent: %q", got)
	}
	if got := edge.PrincipalFromContext(ctx); got != "session:a" {
		t.Fatalf("PrincipalFromContext = %q, want session:a", got)
	}
	if got := edge.PrincipalFromContext(edge.ContextWithPrincipal(ctx, "session:b")); got != "session:b" {
		t.Fatalf("newer principal: got %q, want session:b", got)
	}
	r := edge.RequestWithPrincipal(httptest.NewRequest("GET", "/", nil).WithContext(ctx), "session:c")
	if got := edge.PrincipalFromContext(r.Context()); got != "session:c" {
		t.Fatalf("RequestWithPrincipal: got %q, want session:c", got)
	}
	if got := edge.PrincipalFromContext(edge.ContextWithPrincipal(r.Context(), "session:d")); got != "session:d" {
		t.Fatalf("ContextWithPrincipal over an attached principal: got %q, want session:d", got)
	}
}
