package experiment_test

import (
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// TestOptionsAreTyped: an option of CheckSampleRatio given to NewSet, or
// NewSet's to CheckSampleRatio, is a compile error.
func TestOptionsAreTyped(t *testing.T) {
	const head = `package main

import (
	"context"

	"github.com/cellgate/cellgate/zone/experiment"
)

var exps = []experiment.Experiment{{Key: "k", Variants: []experiment.Variant{{Name: "a", Weight: 1}}}}

type obs struct{}

func (obs) ExperimentExposure(_ context.Context, _, _ string) {}
`
	const imports = ""
	ok := head + imports + `
func main() {
	_, _ = experiment.NewSet(exps, experiment.WithObserver(obs{}))
	_, _ = experiment.CheckSampleRatio(exps[0], []uint64{1}, experiment.WithThreshold(0.01))
}
`
	compilecheck.Fails(t, ok, head+imports+`
func main() { _, _ = experiment.NewSet(exps, experiment.WithThreshold(0.01)) }
`, regexp.MustCompile(`does not implement experiment.SetOption`))
	compilecheck.Fails(t, ok, head+imports+`
func main() { _, _ = experiment.CheckSampleRatio(exps[0], []uint64{1}, experiment.WithObserver(obs{})) }
`, regexp.MustCompile(`does not implement experiment.SampleRatioOption`))
}
