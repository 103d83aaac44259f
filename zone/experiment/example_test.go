package experiment_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cellgate/cellgate/zone/experiment"
)

// A Set assigns every user the same variants wherever it runs; its
// Middleware, behind passport's Gateway, hands them to later stages.
func ExampleSet() {
	set, err := experiment.NewSet([]experiment.Experiment{
		{Key: "checkout", Unit: experiment.UnitUser, Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}}},
		{Key: "headerColor", Unit: experiment.UnitCompany, Variants: []experiment.Variant{{Name: "red", Weight: 25}, {Name: "blue", Weight: 75}}},
	})
	if err != nil {
		panic(err)
	}
	v := set.Assign(experiment.Units{User: "rachel@faas.com", Session: "s-1", Company: "42"})
	fmt.Println(v)
	fmt.Println(v.Get("checkout") == set.Variant("checkout", experiment.Units{User: "rachel@faas.com", Session: "s-2"}))

	// What passport's Gateway forwards, a cache behind Middleware sees.
	h := set.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("cache key part:", experiment.VariantsFromContext(r.Context()).String())
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(experiment.Header, v.String())
	h.ServeHTTP(httptest.NewRecorder(), r)
	fmt.Println(set.Exposures("checkout"))
	// Output:
	// checkout=treatment, headerColor=blue
	// true
	// cache key part: checkout=treatment, headerColor=blue
	// [0 1]
}

// An operator checks an experiment's counts for a sample ratio mismatch.
func ExampleCheckSampleRatio() {
	e := experiment.Experiment{Key: "checkout", Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}}}
	for _, counts := range [][]uint64{{10_040, 9_960}, {10_400, 9_600}} {
		res, err := experiment.CheckSampleRatio(e, counts)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v: χ²=%.2f p=%.4f mismatch=%v\n", counts, res.ChiSquare, res.PValue, res.Mismatch)
	}
	// Output:
	// [10040 9960]: χ²=0.32 p=0.5716 mismatch=false
	// [10400 9600]: χ²=32.00 p=0.0000 mismatch=true
}
