// Package compilecheck builds a small consumer module against this
// repository's library and reports what the compiler says, so a test can
// show that a misuse of the API (an option given to a constructor that does
// not take it) is a compile error in a user's module, not a run-time one.
// It is for tests only.
package compilecheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// root is the library module's directory, found from this file's path.
func root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("compilecheck: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Build writes main (a complete main.go, package main) into a fresh module
// that requires github.com/cellgate/cellgate through a replace of this
// repository, runs go build on it and returns the compiler's output and
// whether the build succeeded. The module reuses the library's go.sum, so
// it builds offline from the module cache the library's own build filled.
func Build(t testing.TB, main string) (output string, ok bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("compilecheck runs the go command; skipped with -short")
	}
	lib := root(t)
	dir := t.TempDir()
	gomod := "module consumer\n\ngo 1.26\n\nrequire github.com/cellgate/cellgate v0.0.0\n\nreplace github.com/cellgate/cellgate => " + lib + "\n"
	sum, err := os.ReadFile(filepath.Join(lib, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(main)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The deadline catches a hung go command, it does not measure speed.
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(5*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-mod=mod", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("compilecheck: go build did not finish: %v\n%s", ctx.Err(), out.String())
	}
	return out.String(), err == nil
}

// Fails fails t unless main fails to compile with an error matching want.
// Before checking the misuse it builds ok, the same program with the
// misuse corrected, so a test cannot pass because of an unrelated typo.
func Fails(t testing.TB, ok, misuse string, want *regexp.Regexp) {
	t.Helper()
	if out, built := Build(t, ok); !built {
		t.Fatalf("the corrected program does not build:\n%s\n%s", out, ok)
	}
	out, built := Build(t, misuse)
	switch {
	case built:
		t.Fatalf("the misuse compiled; want a compile error matching %q:\n%s", want, misuse)
	case !want.MatchString(out):
		t.Fatalf("go build failed, but not with %q:\n%s", want, strings.TrimSpace(out))
	}
}
