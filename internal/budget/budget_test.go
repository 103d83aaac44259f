// Package budget holds the test that keeps each library package within the
// dependencies the design allows it.
package budget

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cellgate/cellgate/"

// allowed reports whether pkg may link dep. The standard library (no dot in
// the first path element) is allowed everywhere.
var budgets = map[string]func(dep string) bool{
	"edge": func(dep string) bool { return dep == module+"edge" },
	"hmacsig": func(dep string) bool {
		return dep == module+"hmacsig" || dep == module+"edge"
	},
	"tracing":           otelAPI,
	"tracing/otelsetup": func(string) bool { return true },
	"upload": func(dep string) bool {
		return otelAPI(dep) && !strings.HasPrefix(dep, module+"passport")
	},
}

// otelAPI refuses the OTel SDK, its exporters, gRPC and protobuf: packages
// that may use only the OTel API and otelhttp.
func otelAPI(dep string) bool {
	for _, bad := range []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters",
		"google.golang.org/grpc", "google.golang.org/protobuf"} {
		if dep == bad || strings.HasPrefix(dep, bad+"/") {
			return false
		}
	}
	return true
}

func TestBudgets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	for pkg, allowed := range budgets {
		out, err := exec.Command(goTool, "list", "-deps", module+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			first, _, _ := strings.Cut(dep, "/")
			if !strings.Contains(first, ".") || dep == module+pkg {
				continue
			}
			if !allowed(dep) {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
