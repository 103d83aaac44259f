package testwait

import (
	"fmt"
	"strings"
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

// fatalTB records Fatalf by panicking, as t.Fatalf ends the goroutine.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func TestUntil(t *testing.T) {
	t.Setenv(EnvScale, "")
	calls := 0
	Until(t, time.Minute, "third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("cond called %d times, want 3", calls)
	}
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if recover() != f {
				t.Fatal("Until did not fail past its limit")
			}
		}()
		Until(f, 20*time.Millisecond, "never", func() bool { return false })
	}()
	if !strings.Contains(f.msg, "never: not within 20ms") {
		t.Fatalf("failure says %q", f.msg)
	}
}
