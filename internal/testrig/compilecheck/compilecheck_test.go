package compilecheck_test

import (
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

func TestFails(t *testing.T) {
	ok := `package main

import "github.com/cellgate/cellgate/edge"

func main() { _ = edge.NewRequestID() }
`
	misuse := `package main

import "github.com/cellgate/cellgate/edge"

func main() { _ = edge.NewRequestID(1) }
`
	compilecheck.Fails(t, ok, misuse, regexp.MustCompile(`too many arguments in call to edge.NewRequestID`))
	if out, built := compilecheck.Build(t, misuse); built {
		t.Fatalf("a call with a wrong argument built:\n%s", out)
	}
}
