package testwait

import (
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	t.Setenv(EnvScale, "")
	if got := Scale(time.Second); got != time.Second {
		t.Fatalf("unset: %v", got)
	}
	t.Setenv(EnvScale, "2.5")
	if got := Scale(time.Second); got != 2500*time.Millisecond {
		t.Fatalf("2.5: %v", got)
	}
	for _, bad := range []string{"0", "-1", "x", "NaN", "1e9"} {
		t.Setenv(EnvScale, bad)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s=%q: no panic", EnvScale, bad)
				}
			}()
			Scale(time.Second)
		}()
	}
}
