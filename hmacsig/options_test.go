package hmacsig_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
)

func TestOptionsChecked(t *testing.T) {
	key := bytes.Repeat([]byte{7}, hmacsig.MinKeySize)
	construct := map[string]func(...hmacsig.Option) error{
		"NewSigner": func(o ...hmacsig.Option) error { _, err := hmacsig.NewSigner(key, o...); return err },
		"NewVerifier": func(o ...hmacsig.Option) error {
			_, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key}, o...)
			return err
		},
	}
	for _, tt := range []struct {
		ctor string
		opt  hmacsig.Option
	}{
		// Options the constructor does not read.
		{"NewSigner", hmacsig.WithLeeway(time.Second)},
		{"NewSigner", hmacsig.WithMaxLifetime(time.Hour)},
		{"NewSigner", hmacsig.WithLogger(nil)},
		{"NewVerifier", hmacsig.WithKeyID("k1")},
		// Invalid values.
		{"NewSigner", hmacsig.WithKeyID("")},
		{"NewSigner", hmacsig.WithKeyID("no spaces")},
		{"NewVerifier", hmacsig.WithLeeway(-time.Second)},
		{"NewVerifier", hmacsig.WithMaxLifetime(0)},
	} {
		err := construct[tt.ctor](tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.ctor) || !strings.Contains(err.Error(), tt.opt.Name()) {
			t.Errorf("%s(%s) = %v, want an error naming both", tt.ctor, tt.opt.Name(), err)
		}
	}
	for ctor, opts := range map[string][]hmacsig.Option{
		"NewSigner":   {hmacsig.WithKeyID("k1"), hmacsig.WithClock(time.Now)},
		"NewVerifier": {hmacsig.WithClock(time.Now), hmacsig.WithLeeway(0), hmacsig.WithMaxLifetime(time.Hour), hmacsig.WithLogger(nil), hmacsig.WithObserver(nil)},
	} {
		if err := construct[ctor](opts...); err != nil {
			t.Errorf("%s: %v", ctor, err)
		}
	}
}
