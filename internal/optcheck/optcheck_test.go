package optcheck

import (
	"testing"
	"time"
)

type cfg struct{ n int }

type opt struct {
	name  string
	apply func(*cfg) error
}

func parts(o opt) (string, func(*cfg) error) { return o.name, o.apply }

func withN(n int) opt {
	return opt{"WithN", func(c *cfg) error {
		if err := Positive(n); err != nil {
			return err
		}
		c.n = n
		return nil
	}}
}

func TestApply(t *testing.T) {
	for _, tt := range []struct {
		opts []opt
		want string
	}{
		{[]opt{withN(3)}, ""},
		{[]opt{withN(0)}, "p: New: WithN: 0 is not positive"},
		{[]opt{{}}, "p: New: zero Option"},
	} {
		var c cfg
		err := Apply(&c, "p", "New", tt.opts, parts)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Apply = %q, want %q", got, tt.want)
		}
	}
}

func TestBounds(t *testing.T) {
	if Positive(time.Second) != nil || Positive(0) == nil || Positive(-1.5) == nil {
		t.Error("Positive")
	}
	if NotNegative(0) != nil || NotNegative(-time.Second) == nil {
		t.Error("NotNegative")
	}
}
