package experiment

import (
	"errors"
	"fmt"
	"math"
)

// ErrTooFewCounts is returned by CheckSampleRatio while some variant's
// expected count is below 5, where the chi-square test says nothing
// reliable yet.
var ErrTooFewCounts = errors.New("experiment: too few counts for a sample ratio check")

// SampleRatio is the result of a sample ratio mismatch (SRM) check: a
// chi-square goodness-of-fit test of observed counts against the shares
// the weights promise. A mismatch means the assignment, or what happens
// after it (a variant that crashes, redirects or is cached differently),
// loses units of one variant: the experiment's results cannot be trusted.
type SampleRatio struct {
	Observed  []uint64  // the counts checked, in the order of the variants
	Expected  []float64 // what the weights promise for the same total
	ChiSquare float64   // Σ (observed − expected)² / expected
	Freedom   int       // degrees of freedom: variants of positive weight − 1
	PValue    float64   // P(χ² ≥ ChiSquare) if the split were as weighted
	Threshold float64   // the p-value below which it is a mismatch
	Mismatch  bool      // PValue < Threshold
}

// CheckSampleRatio tests counts (one per variant of e, in its order)
// against e's weights. Count units (users, sessions or companies assigned
// and seen), not requests, unless the variants cannot change how many
// requests a unit sends: a variant that makes users click more is no
// mismatch. A count for a variant of weight 0 is always a mismatch.
// Options: WithThreshold (DefaultThreshold).
func CheckSampleRatio(e Experiment, counts []uint64, opts ...SampleRatioOption) (SampleRatio, error) {
	c := srmConfig{threshold: DefaultThreshold}
	if err := applyOptions(&c, "CheckSampleRatio", opts, SampleRatioOption.sampleRatioOption); err != nil {
		return SampleRatio{}, err
	}
	e, err := validate(e)
	if err != nil {
		return SampleRatio{}, fmt.Errorf("experiment: CheckSampleRatio: %w", err)
	}
	if len(counts) != len(e.Variants) {
		return SampleRatio{}, fmt.Errorf("experiment: CheckSampleRatio: %d counts for the %d variants of %s", len(counts), len(e.Variants), e.Key)
	}
	var n, total float64
	for i, v := range e.Variants {
		n += float64(counts[i])
		total += float64(v.Weight)
	}
	res := SampleRatio{Observed: append([]uint64(nil), counts...), Expected: make([]float64, len(counts)), Threshold: c.threshold, PValue: 1}
	impossible := false // a count where the weights promise none
	for i, v := range e.Variants {
		exp := n * float64(v.Weight) / total
		res.Expected[i] = exp
		if v.Weight == 0 {
			impossible = impossible || counts[i] > 0
			continue
		}
		res.Freedom++
		if exp < 5 {
			return res, fmt.Errorf("%w: %s expects %.1f of %s", ErrTooFewCounts, e.Key, exp, v.Name)
		}
		d := float64(counts[i]) - exp
		res.ChiSquare += d * d / exp
	}
	res.Freedom--
	switch {
	case impossible:
		res.ChiSquare, res.PValue = math.Inf(1), 0
	case res.Freedom > 0:
		res.PValue = chiSquareSurvival(res.ChiSquare, res.Freedom)
	}
	res.Mismatch = res.PValue < res.Threshold
	return res, nil
}

// CheckSampleRatio checks the exposures the Set has counted for
// experiment key (Exposures) against its weights. Exposures count
// requests; see CheckSampleRatio for when that is fair.
func (s *Set) CheckSampleRatio(key string, opts ...SampleRatioOption) (SampleRatio, error) {
	i := s.find(key)
	if i < 0 {
		return SampleRatio{}, fmt.Errorf("experiment: CheckSampleRatio: no experiment %q", key)
	}
	return CheckSampleRatio(s.exps[i], s.Exposures(key), opts...)
}

// chiSquareSurvival returns P(X ≥ x) for X chi-square distributed with k
// degrees of freedom: the regularized upper incomplete gamma Q(k/2, x/2).
func chiSquareSurvival(x float64, k int) float64 {
	if x <= 0 {
		return 1
	}
	return upperGamma(float64(k)/2, x/2)
}

// upperGamma is the regularized upper incomplete gamma function Q(a, x),
// by its series below a+1 and its continued fraction above (Numerical
// Recipes, 6.2), to about 1e-14.
func upperGamma(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	front := math.Exp(-x + a*math.Log(x) - lg)
	const eps, tiny, iterations = 1e-15, 1e-300, 1000
	if x < a+1 {
		// P(a, x) = front · Σ x^n / (a (a+1) … (a+n))
		sum, term := 1/a, 1/a
		for n := 1; n < iterations; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*eps {
				break
			}
		}
		return max(0, 1-front*sum)
	}
	// Q(a, x) = front · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))), Lentz's method
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < iterations; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return front * h
}
