package hmacsig_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// TestOptionsInvalid: an invalid value, a nil option and the zero
// ClockOption are construction errors that name the constructor and the
// option; nothing panics.
func TestOptionsInvalid(t *testing.T) {
	key := bytes.Repeat([]byte{7}, hmacsig.MinKeySize)
	signer := func(o ...hmacsig.SignerOption) error { _, err := hmacsig.NewSigner(key, o...); return err }
	verifier := func(o ...hmacsig.VerifierOption) error {
		_, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key}, o...)
		return err
	}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	if err != nil {
		t.Fatal(err)
	}
	require := func(o ...hmacsig.RequireOption) error { _, err := hmacsig.Require(v, o...); return err }
	for _, tt := range []struct {
		ctor, opt string
		err       error
	}{
		{"NewSigner", "WithKeyID", signer(hmacsig.WithKeyID("no spaces"))},
		{"NewSigner", "WithKeyID", signer(hmacsig.WithKeyID(strings.Repeat("k", 65)))},
		{"NewVerifier", "WithLeeway", verifier(hmacsig.WithLeeway(-time.Second))},
		{"NewVerifier", "WithMaxLifetime", verifier(hmacsig.WithMaxLifetime(-time.Second))},
		{"Require", "RequireContentDigest", require(hmacsig.RequireContentDigest())},
		{"Require", "RequireContentDigest", require(hmacsig.RequireContentDigest("PU T"))},
		{"NewSigner", "zero Option", signer(nil)},
		{"NewSigner", "zero Option", signer(hmacsig.ClockOption{})},
		{"NewVerifier", "zero Option", verifier(hmacsig.ClockOption{})},
		{"Require", "zero Option", require(nil)},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), "hmacsig: "+tt.ctor) || !strings.Contains(tt.err.Error(), tt.opt) {
			t.Errorf("%s(invalid %s) = %v, want an error naming both", tt.ctor, tt.opt, tt.err)
		}
	}
	if _, err := hmacsig.Require(nil); err == nil {
		t.Error("Require took a nil Verifier")
	}
	for name, err := range map[string]error{
		"signer":   signer(hmacsig.WithKeyID(""), hmacsig.WithClock(nil)),
		"verifier": verifier(hmacsig.WithClock(time.Now), hmacsig.WithLeeway(0), hmacsig.WithMaxLifetime(0), hmacsig.WithLogger(nil), hmacsig.WithObserver(nil)),
		"require":  require(hmacsig.RequireContentDigest("put")),
	} {
		if err != nil {
			t.Errorf("%s: zero values refused: %v", name, err)
		}
	}
}

// TestOptionsMisplaced: an option of one constructor given to another is a
// compile error.
func TestOptionsMisplaced(t *testing.T) {
	program := func(body string) string {
		return `package main

import (
	"time"

	"github.com/cellgate/cellgate/hmacsig"
)

var _ = time.Second

func main() {
	key := make([]byte, hmacsig.MinKeySize)
	v, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	_ = v
	` + body + `
}
`
	}
	for _, tt := range []struct{ ok, misuse, want string }{
		{`_, _ = hmacsig.NewSigner(key, hmacsig.WithKeyID("k1"))`, `_, _ = hmacsig.Require(v, hmacsig.WithKeyID("k1"))`,
			`hmacsig.WithKeyID\(.*\) \(value of interface type hmacsig.SignerOption\) as hmacsig.RequireOption value`},
		{`_, _ = hmacsig.NewVerifier(hmacsig.Keys{Current: key}, hmacsig.WithLeeway(time.Second))`,
			`_, _ = hmacsig.NewSigner(key, hmacsig.WithLeeway(time.Second))`,
			`as hmacsig.SignerOption value`},
		{`_, _ = hmacsig.Require(v, hmacsig.RequireContentDigest("PUT"))`,
			`_, _ = hmacsig.NewVerifier(hmacsig.Keys{Current: key}, hmacsig.RequireContentDigest("PUT"))`,
			`as hmacsig.VerifierOption value`},
		{`_, _ = hmacsig.NewVerifier(hmacsig.Keys{Current: key}, hmacsig.WithClock(time.Now))`,
			`_, _ = hmacsig.Require(v, hmacsig.WithClock(time.Now))`,
			`hmacsig.ClockOption does not implement hmacsig.RequireOption`},
	} {
		compilecheck.Fails(t, program(tt.ok), program(tt.misuse), regexp.MustCompile(tt.want))
	}
}
