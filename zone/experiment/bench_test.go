package experiment_test

import (
	"testing"

	"github.com/cellgate/cellgate/zone/experiment"
)

// BenchmarkAssign is one experiment's assignment for one user, what the
// issuer does per experiment at every mint: under a microsecond, no
// allocation.
func BenchmarkAssign(b *testing.B) {
	set, err := experiment.NewSet(testExperiments)
	if err != nil {
		b.Fatal(err)
	}
	u := experiment.Units{User: "8d0f3c52-5b7e-4f7e-9c1a-2f9a7c1e4b60", Session: "s-1", Company: "42"}
	b.ReportAllocs()
	for b.Loop() {
		if set.Variant("checkout", u) == "" {
			b.Fatal("no variant")
		}
	}
}

// BenchmarkExperimentAssign is Experiment.Assign alone.
func BenchmarkExperimentAssign(b *testing.B) {
	e := testExperiments[0]
	b.ReportAllocs()
	for b.Loop() {
		if e.Assign("8d0f3c52-5b7e-4f7e-9c1a-2f9a7c1e4b60") == "" {
			b.Fatal("no variant")
		}
	}
}

// TestAssignDoesNotAllocate holds the benchmark's promise in the tests.
func TestAssignDoesNotAllocate(t *testing.T) {
	set, err := experiment.NewSet(testExperiments)
	if err != nil {
		t.Fatal(err)
	}
	u := experiment.Units{User: "8d0f3c52-5b7e-4f7e-9c1a-2f9a7c1e4b60", Company: "42"}
	if n := testing.AllocsPerRun(100, func() { set.Variant("checkout", u); set.Variant("banner", u) }); n != 0 {
		t.Errorf("Variant allocates %v times", n)
	}
}
