package must_test

import (
	"errors"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestBuild(t *testing.T) {
	if got := must.Build(42, nil); got != 42 {
		t.Fatalf("Build = %d, want 42", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Build did not panic on an error")
		}
	}()
	must.Build(0, errors.New("bad option"))
}
