package edge_test

import (
	"context"
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
