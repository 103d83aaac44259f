package experiment_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone/experiment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func split(weights ...int) []experiment.Variant {
	v := make([]experiment.Variant, len(weights))
	for i, w := range weights {
		v[i] = experiment.Variant{Name: fmt.Sprintf("v%d", i), Weight: w}
	}
	return v
}

func TestNewSetRefusesBadConfig(t *testing.T) {
	ok := experiment.Experiment{Key: "k", Variants: split(1, 1)}
	tooMany := make([]experiment.Experiment, experiment.MaxVariants+1)
	for i := range tooMany {
		tooMany[i] = experiment.Experiment{Key: fmt.Sprintf("k%d", i), Variants: split(1)}
	}
	for name, exps := range map[string][]experiment.Experiment{
		"empty key":        {{Key: "", Variants: split(1)}},
		"key with a space": {{Key: "a b", Variants: split(1)}},
		"key with a comma": {{Key: "a,b", Variants: split(1)}},
		"key too long":     {{Key: strings.Repeat("k", experiment.MaxNameLen+1), Variants: split(1)}},
		"unknown unit":     {{Key: "k", Unit: "device", Variants: split(1)}},
		"no variants":      {{Key: "k"}},
		"variant name =":   {{Key: "k", Variants: []experiment.Variant{{Name: "a=b", Weight: 1}}}},
		"variant twice":    {{Key: "k", Variants: []experiment.Variant{{Name: "a", Weight: 1}, {Name: "a", Weight: 1}}}},
		"negative weight":  {{Key: "k", Variants: split(2, -1)}},
		"all weights zero": {{Key: "k", Variants: split(0, 0)}},
		"weights overflow": {{Key: "k", Variants: split(1<<30, 1<<30)}},
		"key twice":        {ok, ok},
		"too many":         tooMany,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := experiment.NewSet(exps)
			require.Error(t, err)
			assert.True(t, errors.Is(err, experiment.ErrConfig), "%v", err)
		})
	}
	_, err := experiment.NewSet([]experiment.Experiment{ok}, nil)
	assert.ErrorContains(t, err, "nil option")
	_, err = experiment.NewSet([]experiment.Experiment{ok}, experiment.WithObserver(nil))
	assert.ErrorContains(t, err, "experiment: NewSet: WithObserver: nil observer")
}

// TestSetKeepsItsOwnCopy: changing the caller's slice after NewSet
// changes nothing.
func TestSetKeepsItsOwnCopy(t *testing.T) {
	v := split(1, 0)
	set, err := experiment.NewSet([]experiment.Experiment{{Key: "k", Variants: v}})
	require.NoError(t, err)
	v[0].Weight, v[1].Weight = 0, 1
	assert.Equal(t, "v0", set.Variant("k", experiment.Units{User: "u"}))
}

// TestUnits: each experiment reads its own unit; a request without it is
// in no variant of that experiment.
func TestUnits(t *testing.T) {
	set, err := experiment.NewSet([]experiment.Experiment{
		{Key: "byuser", Variants: split(1, 1)}, // "" is UnitUser
		{Key: "bysession", Unit: experiment.UnitSession, Variants: split(1, 1)},
		{Key: "bycompany", Unit: experiment.UnitCompany, Variants: split(1, 1)},
	})
	require.NoError(t, err)
	u := experiment.Units{User: "u-1", Session: "s-1", Company: "42"}
	got := set.Assign(u)
	assert.Equal(t, experiment.Variants{
		{Experiment: "bycompany", Variant: experiment.Experiment{Key: "bycompany", Variants: split(1, 1)}.Assign("42")},
		{Experiment: "bysession", Variant: experiment.Experiment{Key: "bysession", Variants: split(1, 1)}.Assign("s-1")},
		{Experiment: "byuser", Variant: experiment.Experiment{Key: "byuser", Variants: split(1, 1)}.Assign("u-1")},
	}, got)
	assert.Equal(t, got.Get("byuser"), set.Variant("byuser", u))
	assert.Equal(t, experiment.Variants{{Experiment: "byuser", Variant: got.Get("byuser")}}, set.Assign(experiment.Units{User: "u-1"}))
	assert.Nil(t, set.Assign(experiment.Units{}), "anonymous")
	assert.Equal(t, "", set.Variant("nosuch", u))
}

// TestWeightChangeMovesOnlyWhatMust: moving 10 of 100 from the first
// variant to the second moves ~10% of units, every one of them from the
// first to the second; another experiment's units do not move.
func TestWeightChangeMovesOnlyWhatMust(t *testing.T) {
	before, err := experiment.NewSet([]experiment.Experiment{
		{Key: "checkout", Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}}},
		{Key: "banner", Variants: []experiment.Variant{{Name: "off", Weight: 70}, {Name: "on", Weight: 30}}},
	})
	require.NoError(t, err)
	after, err := experiment.NewSet([]experiment.Experiment{
		{Key: "checkout", Variants: []experiment.Variant{{Name: "control", Weight: 40}, {Name: "treatment", Weight: 60}}},
		{Key: "banner", Variants: []experiment.Variant{{Name: "off", Weight: 70}, {Name: "on", Weight: 30}}},
	})
	require.NoError(t, err)
	const n = 20_000
	moved := 0
	for i := range n {
		u := experiment.Units{User: fmt.Sprintf("user-%d", i)}
		b, a := before.Assign(u), after.Assign(u)
		require.Equal(t, b.Get("banner"), a.Get("banner"), "another experiment's unit moved")
		if b.Get("checkout") != a.Get("checkout") {
			moved++
			require.Equal(t, "control", b.Get("checkout"), "a unit moved the wrong way")
			require.Equal(t, "treatment", a.Get("checkout"))
		}
	}
	assert.InDelta(t, 0.10, float64(moved)/n, 0.01, "moved %d of %d", moved, n)

	// Scaling every weight alike moves nobody.
	scaled := experiment.Experiment{Key: "checkout", Variants: []experiment.Variant{{Name: "control", Weight: 4}, {Name: "treatment", Weight: 6}}}
	for i := range n {
		user := fmt.Sprintf("user-%d", i)
		require.Equal(t, after.Variant("checkout", experiment.Units{User: user}), scaled.Assign(user))
	}
}

// TestSplitFollowsWeights: over many users, each variant's share is its
// weight's, within sampling error.
func TestSplitFollowsWeights(t *testing.T) {
	e := experiment.Experiment{Key: "k", Variants: split(1, 2, 7)}
	counts := make([]uint64, 3)
	const n = 50_000
	for i := range n {
		switch e.Assign(fmt.Sprintf("u%d", i)) {
		case "v0":
			counts[0]++
		case "v1":
			counts[1]++
		case "v2":
			counts[2]++
		}
	}
	res, err := experiment.CheckSampleRatio(e, counts)
	require.NoError(t, err)
	assert.False(t, res.Mismatch, "%+v", res)
}

// TestStickyAcrossProcesses: a second process (this test binary run
// again, see TestMain) assigns every unit as this one does: nothing but
// the configuration and the unit enters the choice.
func TestStickyAcrossProcesses(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "EXPERIMENT_CHILD=1")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	set, err := childSet()
	require.NoError(t, err)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	lines := 0
	for sc.Scan() {
		user, variants, ok := strings.Cut(sc.Text(), "\t")
		require.True(t, ok, "the child printed %q", sc.Text())
		lines++
		assert.Equal(t, set.Assign(experiment.Units{User: user, Session: "s-" + user, Company: "c-" + user}).String(), variants, user)
	}
	assert.Equal(t, 1000, lines, "the child's answer:\n%s", out)
}

func childSet() (*experiment.Set, error) {
	return experiment.NewSet(append(testExperiments, experiment.Experiment{Key: "layout", Unit: experiment.UnitSession, Variants: split(3, 3, 4)}))
}

// TestMain is, with EXPERIMENT_CHILD=1, the second process of
// TestStickyAcrossProcesses: it prints its assignments and exits.
func TestMain(m *testing.M) {
	if os.Getenv("EXPERIMENT_CHILD") != "1" {
		os.Exit(m.Run())
	}
	set, err := childSet()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := range 1000 {
		user := fmt.Sprintf("user-%d", i)
		fmt.Printf("%s\t%s\n", user, set.Assign(experiment.Units{User: user, Session: "s-" + user, Company: "c-" + user}))
	}
	os.Exit(0)
}

func TestVariantsStringAndParse(t *testing.T) {
	v := experiment.Variants{{Experiment: "a", Variant: "x"}, {Experiment: "b.c", Variant: "Y-1"}}
	assert.Equal(t, "a=x, b.c=Y-1", v.String())
	for _, s := range []string{"a=x, b.c=Y-1", "b.c=Y-1,a=x", " a=x ,  b.c=Y-1 "} {
		got, err := experiment.ParseVariants(s)
		require.NoError(t, err, s)
		assert.Equal(t, v, got, s)
	}
	got, err := experiment.ParseVariants("")
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Equal(t, "", got.String())
	for _, bad := range []string{"a", "a=", "=x", "a=x,", "a=x, a=y", "a=x y", "a=x;b=y", strings.Repeat("a=x,", 40) + "b=y"} {
		_, err := experiment.ParseVariants(bad)
		assert.Error(t, err, bad)
	}
	m, err := experiment.VariantsOfMap(map[string]string{"b.c": "Y-1", "a": "x"})
	require.NoError(t, err)
	assert.Equal(t, v, m)
	assert.Equal(t, map[string]string{"a": "x", "b.c": "Y-1"}, v.Map())
	_, err = experiment.VariantsOfMap(map[string]string{"a": "x y"})
	assert.Error(t, err)
	assert.Equal(t, "Y-1", v.Get("b.c"))
	assert.Equal(t, "", v.Get("nosuch"))
}

type exposures struct {
	mu   sync.Mutex
	seen []string
}

func (e *exposures) ExperimentExposure(_ context.Context, experiment, variant string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, experiment+"="+variant)
}

// TestMiddlewareCountsConfiguredOnly: the middleware exposes every
// variant of the header to later stages but counts, and tells the
// observer, only configured experiments and variants, so a metric's
// attributes never come from the request.
func TestMiddlewareCountsConfiguredOnly(t *testing.T) {
	obs := &exposures{}
	set, err := experiment.NewSet(testExperiments, experiment.WithObserver(obs))
	require.NoError(t, err)
	var got experiment.Variants
	h := set.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = experiment.VariantsFromContext(r.Context()) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(experiment.Header, "checkout=treatment, banner=purple, unknown=x")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "banner=purple, checkout=treatment, unknown=x", got.String())
	assert.Equal(t, []string{"checkout=treatment"}, obs.seen)
	assert.Equal(t, []uint64{0, 1}, set.Exposures("checkout"))
	assert.Equal(t, []uint64{0, 0}, set.Exposures("banner"))
	assert.Nil(t, set.Exposures("unknown"))

	// No header: no variants, nothing counted.
	got = nil
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Nil(t, got)
	assert.Len(t, obs.seen, 1)
}

func TestMiddlewareRefusesBadHeader(t *testing.T) {
	set, err := experiment.NewSet(testExperiments)
	require.NoError(t, err)
	h := set.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("reached the handler") }))
	for name, hdr := range map[string]http.Header{
		"malformed":      {experiment.Header: {"checkout"}},
		"two values":     {experiment.Header: {"checkout=control", "checkout=treatment"}},
		"two spellings":  {experiment.Header: {"checkout=control"}, "Cellgate_Experiments": {"checkout=treatment"}},
		"duplicate item": {experiment.Header: {"checkout=control, checkout=treatment"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header = hdr
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, http.StatusBadRequest, w.Code)
			p, err := edge.ReadProblem(w.Result())
			require.NoError(t, err)
			assert.Equal(t, "experiments_invalid", p.Code())
		})
	}
}

func TestContextAccessors(t *testing.T) {
	ctx := context.Background()
	assert.Nil(t, experiment.VariantsFromContext(ctx))
	v := experiment.Variants{{Experiment: "a", Variant: "x"}}
	assert.Equal(t, v, experiment.VariantsFromContext(experiment.ContextWithVariants(ctx, v)))
}
