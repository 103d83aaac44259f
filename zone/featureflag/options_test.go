package featureflag_test

import (
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// Evaluator's FlagFunc is a router option (zone.WithFlagEvaluator): given to
// DetectCompany it does not compile.
func TestEvaluatorIsARouterOptionOnly(t *testing.T) {
	const head = `package main

import (
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/featureflag"
	"github.com/open-feature/go-sdk/openfeature"
)

var _, _ = http.NotFoundHandler, edge.Binding

func main() {
	flags := zone.WithFlagEvaluator(featureflag.Evaluator(openfeature.NewDefaultClient()))
	_ = flags
`
	ok := head + `	_, _ = zone.NewRouter(map[string]zone.Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}, flags)
	_, _ = zone.DetectCompany()
	_ = featureflag.Targeting()
}
`
	misuse := head + `	_, _ = zone.NewRouter(map[string]zone.Endpoint{"us01": {Transport: edge.Binding(http.NotFoundHandler())}}, flags)
	_, _ = zone.DetectCompany(flags)
	_ = featureflag.Targeting()
}
`
	compilecheck.Fails(t, ok, misuse,
		regexp.MustCompile(`cannot use flags .*as zone\.DetectOption value in argument to zone\.DetectCompany`))
}
