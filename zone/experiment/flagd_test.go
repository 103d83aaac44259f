package experiment_test

import (
	"math"
	"testing"

	"github.com/cellgate/cellgate/zone/experiment"
)

// colors are the variants of flagd's fractional tests, weights set per case.
func colors(weights ...int) []experiment.Variant {
	names := []string{"red", "blue", "green", "yellow"}
	v := make([]experiment.Variant, len(weights))
	for i, w := range weights {
		v[i] = experiment.Variant{Name: names[i], Weight: w}
	}
	return v
}

// TestFlagdFractionalTable checks Assign against the published expectations
// of flagd's own tests of "fractional" (open-feature/flagd,
// core/pkg/evaluator/fractional_test.go at bbb05d4, 2026-07-31):
// TestFractionalEvaluation and TestFractionalEvaluationWithNestedJSONLogic.
// (BenchmarkFractionalEvaluation's expectations are left out: benchmarks
// do not run in flagd's CI, and its four still encode the arithmetic
// before v0.15, |int32(h)|/MaxInt32 × 100, which they all match.) flagd hashes
// the bucketing value: flagKey+targetingKey by default, or what the rule's
// first item evaluates to; here that value is Key+unit. flagd's unweighted
// variants ([["red"], ["blue"]]) weigh 1 each.
func TestFlagdFractionalTable(t *testing.T) {
	tests := []struct {
		name     string // flagd's case
		key      string
		unit     string
		variants []experiment.Variant
		want     string
	}{
		// {"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}, flag headerColor, 25 each
		{"rachel@faas.com", "headerColor", "rachel@faas.com", colors(25, 25, 25, 25), "blue"},
		{"monica@faas.com", "headerColor", "monica@faas.com", colors(25, 25, 25, 25), "yellow"},
		{"joey@faas.com", "headerColor", "joey@faas.com", colors(25, 25, 25, 25), "red"},
		{"ross@faas.com", "headerColor", "ross@faas.com", colors(25, 25, 25, 25), "blue"},
		// {"cat": ["my-seed", {"var": "email"}]}
		{"rachel@faas.com with custom seed", "my-seed", "rachel@faas.com", colors(25, 25, 25, 25), "green"},
		{"monica@faas.com with custom seed", "my-seed", "monica@faas.com", colors(25, 25, 25, 25), "red"},
		{"joey@faas.com with custom seed", "my-seed", "joey@faas.com", colors(25, 25, 25, 25), "blue"},
		{"ross@faas.com with custom seed", "my-seed", "ross@faas.com", colors(25, 25, 25, 25), "green"},
		// {"var": "email"}: the email alone is hashed
		{"ross@faas.com with different flag key", "", "ross@faas.com", colors(25, 25, 25, 25), "red"},
		{"get variant for non-percentage weight values", "", "foo@foo.com", colors(25, 25), "blue"},
		{"get variant for non-specified weight values", "", "foo@foo.com", colors(1, 1), "blue"},
		// the literal "email" is hashed: Key+unit = "em"+"ail"
		{"non even split", "em", "ail", colors(50, 25, 25), "green"},
		// no bucketing value: flagKey+targetingKey
		{"default to targetingKey if no bucket key provided", "headerColor", "foo@foo.com",
			[]experiment.Variant{{Name: "blue", Weight: 50}, {Name: "green", Weight: 50}}, "green"},
		{"missing email - parser should ignore nil/missing custom variables and continue", "headerColor", "foo@foo.com", colors(50, 50), "blue"},
		{"single-entry always returns the sole variant", "headerColor", "any-user", []experiment.Variant{{Name: "blue", Weight: 1}}, "blue"},
		// "weights computed from context variables": "email" literal, one weight 1
		{"weights computed: blue", "em", "ail", colors(0, 1, 0), "blue"},
		{"weights computed: red", "em", "ail", colors(1, 0, 0), "red"},
		{"weights computed: green", "em", "ail", colors(0, 0, 1), "green"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := experiment.Experiment{Key: tt.key, Variants: tt.variants}
			if got := e.Assign(tt.unit); got != tt.want {
				t.Errorf("Assign(%q+%q) = %q, flagd says %q", tt.key, tt.unit, got, tt.want)
			}
		})
	}
}

// TestFlagdBucketArithmetic pins the bucket arithmetic on its edges: the
// hash is read unsigned and scaled by the total in 64 bits, so the largest
// hash lands in the last variant even at a total of math.MaxInt32, and
// the smallest in the first.
func TestFlagdBucketArithmetic(t *testing.T) {
	if got := experiment.Bucket(0, math.MaxInt32); got != 0 {
		t.Errorf("Bucket(0, MaxInt32) = %d", got)
	}
	if got := experiment.Bucket(math.MaxUint32, math.MaxInt32); got != math.MaxInt32-1 {
		t.Errorf("Bucket(MaxUint32, MaxInt32) = %d, want %d", got, math.MaxInt32-1)
	}
	if got := experiment.Bucket(1<<31, 100); got != 50 { // exactly half way
		t.Errorf("Bucket(2^31, 100) = %d, want 50", got)
	}
	// A signed reading of the hash (flagd before v0.15 took |int32(h)|)
	// would put 0x80000000 into bucket 100 of 100 or fail; unsigned puts it mid-range.
	if got := experiment.Bucket(0xffffffff, 100); got != 99 {
		t.Errorf("Bucket(0xffffffff, 100) = %d, want 99", got)
	}
}

// TestMurmur3Vectors checks the hash against MurmurHash3 x86_32's
// reference values (seed 0), the hash every flagd implementation uses.
func TestMurmur3Vectors(t *testing.T) {
	for in, want := range map[string]uint32{
		"":      0,
		"hello": 0x248bfa47,
		"The quick brown fox jumps over the lazy dog": 0x2e4ff723,
	} {
		if got := experiment.Hash("", in); got != want {
			t.Errorf("Hash(%q) = %#x, want %#x", in, got, want)
		}
		if len(in) > 2 {
			if got := experiment.Hash(in[:2], in[2:]); got != want {
				t.Errorf("Hash(%q, %q) = %#x, want %#x: the key and unit are not hashed as one string", in[:2], in[2:], got, want)
			}
		}
	}
	long := string(make([]byte, 300)) // past the stack buffer
	if experiment.Hash(long[:150], long[150:]) != experiment.Hash("", long) {
		t.Error("a long key and unit hash differently from their concatenation")
	}
}
