package geofence_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// An option given to a constructor that does not read it is a compile
// error in the user's module.
func TestMisplacedOptionDoesNotCompile(t *testing.T) {
	const program = `package main

import (
	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone/geofence"
)

func main() {
	_ = edge.TrustNone
	p, _ := geofence.NewStaticPolicies(nil)
	_, _ = geofence.NewFence(p, geofence.WithTrust(edge.TrustNone))
	_, _ = geofence.NewResidency(map[string]geofence.Region{"us01": "us"}, geofence.WithObserver(nil))
	_, _ = geofence.OpenDatabase("country.mmdb", OPTION)
}
`
	ok := strings.Replace(program, "OPTION", "geofence.WithReloadInterval(0)", 1)
	misuse := strings.Replace(program, "OPTION", "geofence.WithTrust(edge.TrustNone)", 1)
	compilecheck.Fails(t, ok, misuse, regexp.MustCompile(`does not implement geofence.DatabaseOption`))
}
