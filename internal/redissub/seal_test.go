package redissub

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func TestSealOpen(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	o := NewOpener(testKey, "ch", time.Minute, clk.Now)
	msg := Seal(testKey, "ch", clk.Now(), `{"company":"4.2"}`)
	body, at, err := o.Open(msg)
	if err != nil || body != `{"company":"4.2"}` || !at.Equal(clk.Now()) {
		t.Fatalf("Open = %q %v %v", body, at, err)
	}
	if _, _, err := o.Open(msg); !errors.Is(err, ErrReplayed) {
		t.Fatalf("the same notice again: %v, want ErrReplayed", err)
	}
	if b, _, ok := Unseal(msg); !ok || b != `{"company":"4.2"}` {
		t.Fatalf("Unseal = %q %v", b, ok)
	}

	fresh := func() string { return Seal(testKey, "ch", clk.Now(), "42") }
	mac, rest, _ := strings.Cut(strings.TrimPrefix(fresh(), sealPrefix), ".")
	for name, tc := range map[string]struct {
		payload string
		want    error
	}{
		"unsigned":        {`{"all":true}`, ErrUnsigned},
		"other key":       {Seal(bytes.Repeat([]byte{8}, 32), "ch", clk.Now(), "42"), ErrBadMAC},
		"other channel":   {Seal(testKey, "other", clk.Now(), "42"), ErrBadMAC},
		"body changed":    {sealPrefix + mac + "." + strings.TrimSuffix(rest, "42") + "43", ErrBadMAC},
		"too old":         {Seal(testKey, "ch", clk.Now().Add(-time.Minute-time.Nanosecond), "42"), ErrReplayed},
		"from the future": {Seal(testKey, "ch", clk.Now().Add(time.Minute+time.Nanosecond), "42"), ErrReplayed},
		"short mac":       {sealPrefix + mac[:10] + "." + rest, ErrUnsigned},
		"no body":         {sealPrefix + mac + ".1.00", ErrUnsigned},
	} {
		if _, _, err := o.Open(tc.payload); !errors.Is(err, tc.want) {
			t.Errorf("%s: Open = %v, want %v", name, err, tc.want)
		}
	}
	// A notice seen is forgotten once it is too old to be accepted anyway.
	old := Seal(testKey, "ch", clk.Now(), "1")
	if _, _, err := o.Open(old); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	if _, _, err := o.Open(fresh()); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	n := len(o.seen)
	o.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d MACs remembered, want 1 (the older ones expired)", n)
	}
}
