package experiment_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/zone/experiment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSampleRatioPValues checks the p-value against chi-square tables:
// the critical values of 5%, 1% and 0.1% for 1, 2 and 3 degrees of freedom.
func TestSampleRatioPValues(t *testing.T) {
	for _, tt := range []struct {
		chi2 float64
		df   int
		p    float64
	}{
		{3.841, 1, 0.05}, {6.635, 1, 0.01}, {10.828, 1, 0.001},
		{5.991, 2, 0.05}, {9.210, 2, 0.01}, {13.816, 2, 0.001},
		{7.815, 3, 0.05}, {11.345, 3, 0.01}, {16.266, 3, 0.001},
		{0.455, 1, 0.5}, {1.386, 2, 0.5}, {30, 10, 0.000857},
	} {
		got := experiment.ChiSquareSurvival(tt.chi2, tt.df)
		assert.InDelta(t, tt.p, got, tt.p*0.01, "χ²=%v df=%d", tt.chi2, tt.df)
	}
	assert.Equal(t, 1.0, experiment.ChiSquareSurvival(0, 3))
}

func TestCheckSampleRatio(t *testing.T) {
	e := experiment.Experiment{Key: "checkout", Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}}}
	t.Run("fair", func(t *testing.T) {
		res, err := experiment.CheckSampleRatio(e, []uint64{5030, 4970})
		require.NoError(t, err)
		assert.False(t, res.Mismatch)
		assert.InDelta(t, 0.36, res.ChiSquare, 0.001)
		assert.InDelta(t, 0.5485, res.PValue, 0.001)
		assert.Equal(t, 1, res.Freedom)
		assert.Equal(t, []float64{5000, 5000}, res.Expected)
		assert.Equal(t, experiment.DefaultThreshold, res.Threshold)
	})
	t.Run("skewed", func(t *testing.T) {
		// 50.8% against 50%: small, and exactly what an SRM check is for.
		res, err := experiment.CheckSampleRatio(e, []uint64{50_800, 49_200})
		require.NoError(t, err)
		assert.True(t, res.Mismatch, "%+v", res)
		assert.Less(t, res.PValue, 1e-6)
	})
	t.Run("threshold", func(t *testing.T) {
		// p ≈ 0.011: a mismatch at 0.05, none at the default 0.001.
		res, err := experiment.CheckSampleRatio(e, []uint64{5128, 4872})
		require.NoError(t, err)
		assert.False(t, res.Mismatch)
		res, err = experiment.CheckSampleRatio(e, []uint64{5128, 4872}, experiment.WithThreshold(0.05))
		require.NoError(t, err)
		assert.True(t, res.Mismatch)
	})
	t.Run("uneven weights", func(t *testing.T) {
		e := experiment.Experiment{Key: "k", Variants: []experiment.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 9}}}
		res, err := experiment.CheckSampleRatio(e, []uint64{1000, 9000})
		require.NoError(t, err)
		assert.False(t, res.Mismatch)
		assert.Equal(t, 0.0, res.ChiSquare)
		res, err = experiment.CheckSampleRatio(e, []uint64{5000, 5000})
		require.NoError(t, err)
		assert.True(t, res.Mismatch)
	})
	t.Run("count for a weight of zero", func(t *testing.T) {
		e := experiment.Experiment{Key: "k", Variants: []experiment.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}, {Name: "off", Weight: 0}}}
		res, err := experiment.CheckSampleRatio(e, []uint64{500, 500, 1})
		require.NoError(t, err)
		assert.True(t, res.Mismatch)
		assert.True(t, math.IsInf(res.ChiSquare, 1))
		res, err = experiment.CheckSampleRatio(e, []uint64{500, 500, 0})
		require.NoError(t, err)
		assert.False(t, res.Mismatch)
	})
	t.Run("too few", func(t *testing.T) {
		_, err := experiment.CheckSampleRatio(e, []uint64{3, 4})
		assert.True(t, errors.Is(err, experiment.ErrTooFewCounts), "%v", err)
	})
	t.Run("bad input", func(t *testing.T) {
		_, err := experiment.CheckSampleRatio(e, []uint64{1})
		assert.Error(t, err)
		_, err = experiment.CheckSampleRatio(experiment.Experiment{Key: "k", Variants: split(0)}, []uint64{1})
		assert.ErrorIs(t, err, experiment.ErrConfig)
		for _, p := range []float64{0, 1, -0.1, math.NaN()} {
			_, err = experiment.CheckSampleRatio(e, []uint64{10, 10}, experiment.WithThreshold(p))
			assert.ErrorContains(t, err, "experiment: CheckSampleRatio: WithThreshold:")
		}
		_, err = experiment.CheckSampleRatio(e, []uint64{10, 10}, nil)
		assert.ErrorContains(t, err, "nil option")
	})
	t.Run("Set's own counts", func(t *testing.T) {
		set, err := experiment.NewSet([]experiment.Experiment{e})
		require.NoError(t, err)
		_, err = set.CheckSampleRatio("checkout")
		assert.ErrorIs(t, err, experiment.ErrTooFewCounts)
		_, err = set.CheckSampleRatio("nosuch")
		assert.Error(t, err)
	})
}

// TestSetSampleRatioOnItsCounts: the Set's own exposure counts, one
// request per user, pass the check when every assigned user is seen, and
// fail it when a tenth of one variant's users never arrive (a variant
// that breaks its page, a cache that serves it to the other).
func TestSetSampleRatioOnItsCounts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		drop     string // every tenth user of this variant is lost
		mismatch bool
	}{{"fair", "", false}, {"skewed", "treatment", true}} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := experiment.NewSet(testExperiments)
			require.NoError(t, err)
			h := set.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			lost := 0
			for i := range 20_000 {
				v := set.Assign(experiment.Units{User: fmt.Sprintf("user-%d", i)})
				if v.Get("checkout") == tt.drop {
					if lost++; lost%10 == 0 {
						continue
					}
				}
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set(experiment.Header, v.String())
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			res, err := set.CheckSampleRatio("checkout")
			require.NoError(t, err)
			assert.Equal(t, tt.mismatch, res.Mismatch, "%+v", res)
		})
	}
}
