// Package budget_test enforces each library package's dependency budget,
// the "may import" column of DESIGN.md's "Packages and their rooms" table:
// `go list -deps` of a package (tests excluded) must hold no module the
// table does not allow it, so importing edge never links an OTel SDK and
// importing upload never links grpc. Every library package outside
// internal/ needs a row; a new package fails until it is given one.
package budget_test

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// Module sets, named after the table's "may import" entries. Each lists
// the module and the modules it itself pulls in. An entry ending in "/"
// allows every module under that prefix.
var (
	// otelAPI is the OpenTelemetry API (trace, metric, log, propagation,
	// the global provider) and what it pulls in. Never the SDK.
	otelAPI = []string{
		"go.opentelemetry.io/otel",
		"go.opentelemetry.io/otel/trace",
		"go.opentelemetry.io/otel/metric",
		"go.opentelemetry.io/otel/log",
		"go.opentelemetry.io/auto/sdk", // the API's hook for auto-instrumentation, not the SDK
		"github.com/go-logr/logr",
		"github.com/go-logr/stdr",
		"github.com/cespare/xxhash/v2",
	}
	otelhttp = []string{
		"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
		"github.com/felixge/httpsnoop",
	}
	// otelSDK is the SDK and exporters (OTLP over HTTP or gRPC, console,
	// Prometheus) with what they pull in; only the set-up subpackage.
	otelSDK = []string{
		"go.opentelemetry.io/",
		"google.golang.org/grpc",
		"google.golang.org/protobuf",
		"google.golang.org/genproto/",
		"github.com/grpc-ecosystem/grpc-gateway/v2",
		"github.com/cenkalti/backoff/",
		"github.com/google/uuid",
		"golang.org/x/net",
		"golang.org/x/sys",
		"golang.org/x/text",
		"github.com/prometheus/",
		"github.com/beorn7/perks",
		"github.com/munnerz/goautoneg",
		"github.com/klauspost/compress",
		"github.com/kylelemons/godebug",
		"github.com/grafana/regexp",
	}
	lru          = []string{"github.com/hashicorp/golang-lru/v2"}
	singleflight = []string{"golang.org/x/sync"}
	jwt          = []string{"github.com/golang-jwt/jwt/v5"}
	openFeature  = []string{"github.com/open-feature/go-sdk"}
	xtime        = []string{"golang.org/x/time"}
	murmur3      = []string{"github.com/twmb/murmur3"}
	maxmind      = []string{"github.com/oschwald/maxminddb-golang/v2", "golang.org/x/sys"}
	goRedis      = []string{"github.com/redis/go-redis/v9", "github.com/cespare/xxhash/v2", "github.com/dgryski/go-rendezvous", "go.uber.org/atomic", "golang.org/x/sys"}
)

// Budgets of the library packages above them in the table; a package may
// pull in what the packages it may import pull in.
var (
	stdOnly  []string // edge, hmacsig: the standard library and each other
	tracing  = join(otelAPI, otelhttp)
	zone     = join(lru, singleflight)
	passport = join(zone, jwt)
	upload   = join(zone, tracing)
)

// budgets maps a package, relative to the module root (path.Match
// patterns), to the modules it may pull in. The main module is always
// allowed. "tracing/*" is the one set-up subpackage, whatever its name.
var budgets = []struct {
	pkg   string
	allow []string
}{
	{"edge", stdOnly},
	{"hmacsig", stdOnly},
	{"tracing", tracing},
	{"tracing/*", join(tracing, otelSDK)},
	{"zone", zone},
	{"zone/featureflag", join(zone, openFeature)},
	{"zone/ratelimit", join(zone, xtime)},
	{"zone/ratelimit/redisrate", join(zone, xtime, goRedis)},
	{"zone/cache", zone},
	{"zone/redisnotice", join(zone, goRedis)},
	{"zone/experiment", join(zone, murmur3)},
	{"zone/geofence", join(zone, maxmind)},
	{"passport", passport},
	{"passport/redisstore", join(passport, goRedis)},
	{"upload", upload},
	{"upload/uploadtest", upload},
}

func join(sets ...[]string) []string { return slices.Concat(sets...) }

func allowed(allow []string, mod string) bool {
	for _, a := range allow {
		if a == mod || strings.HasSuffix(a, "/") && strings.HasPrefix(mod, a) {
			return true
		}
	}
	return false
}

// goList runs the go command in the module and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// dep is one package of a go list -deps answer.
type dep struct {
	module  string // "" for the standard library and the main module
	imports []string
}

func TestDependencyBudget(t *testing.T) {
	root := goList(t, "-m")[0]
	var pkgs []string
	for _, p := range goList(t, root+"/...") {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if rel == "internal" || strings.HasPrefix(rel, "internal/") || strings.Contains(rel, "/internal/") || strings.HasPrefix(rel, "examples") {
			continue // not importable by users; examples is its own module
		}
		pkgs = append(pkgs, rel)
	}
	for _, rel := range pkgs {
		t.Run(rel, func(t *testing.T) {
			i := slices.IndexFunc(budgets, func(b struct {
				pkg   string
				allow []string
			}) bool {
				ok, _ := path.Match(b.pkg, rel)
				return ok
			})
			if i < 0 {
				t.Fatalf("package %s has no row in the budget table: give it the budget DESIGN.md gives it", rel)
			}
			checkBudget(t, root, root+"/"+rel, budgets[i].allow)
		})
	}
}

// checkBudget fails for every module outside allow in the non-test
// dependencies of pkg, naming the import chain that brings it in.
func checkBudget(t *testing.T, root, pkg string, allow []string) {
	t.Helper()
	deps := map[string]dep{}
	for _, line := range goList(t, "-deps", "-f", `{{.ImportPath}}|{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}|{{join .Imports ","}}`, pkg) {
		f := strings.SplitN(line, "|", 3)
		d := dep{module: f[1]}
		if f[2] != "" {
			d.imports = strings.Split(f[2], ",")
		}
		deps[f[0]] = d
	}
	// Breadth first from pkg, so each forbidden module is reported once,
	// with the shortest chain of imports that reaches it.
	from := map[string]string{pkg: ""}
	queue := []string{pkg}
	reported := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if m := deps[p].module; m != "" && !allowed(allow, m) && !reported[m] {
			reported[m] = true
			var chain []string
			for q := p; q != ""; q = from[q] {
				chain = append(chain, strings.TrimPrefix(q, root+"/"))
			}
			slices.Reverse(chain)
			t.Errorf("%s pulls in module %s, which DESIGN.md does not allow it (via %s)",
				strings.TrimPrefix(pkg, root+"/"), m, strings.Join(chain, " → "))
		}
		for _, q := range deps[p].imports {
			if _, seen := from[q]; !seen {
				if _, ok := deps[q]; ok {
					from[q] = p
					queue = append(queue, q)
				}
			}
		}
	}
}

// TestLibraryNeverImportsTestRigs keeps the layering the tree shows: what
// only tests use lives under internal/testrig, and no package outside it
// links any of it (tests excluded).
func TestLibraryNeverImportsTestRigs(t *testing.T) {
	root := goList(t, "-m")[0]
	rigs := root + "/internal/testrig"
	for _, line := range goList(t, "-f", `{{.ImportPath}} {{join .Deps " "}}`, root+"/...") {
		pkg, deps, _ := strings.Cut(line, " ")
		if pkg == rigs || strings.HasPrefix(pkg, rigs+"/") {
			continue
		}
		for _, d := range strings.Fields(deps) {
			if d == rigs || strings.HasPrefix(d, rigs+"/") {
				t.Errorf("%s imports the test rig %s", strings.TrimPrefix(pkg, root+"/"), strings.TrimPrefix(d, root+"/"))
			}
		}
	}
}
