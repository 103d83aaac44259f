package edge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestSetProblemObserverSeesEveryProblemOnce(t *testing.T) {
	type seen struct {
		status int
		code   string
	}
	var got []seen
	edge.SetProblemObserver(func(_ context.Context, status int, code string) { got = append(got, seen{status, code}) })
	t.Cleanup(func() { edge.SetProblemObserver(nil) })

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	edge.WriteProblem(httptest.NewRecorder(), r, edge.ErrNotFound)
	edge.WriteProblem(httptest.NewRecorder(), r, context.Canceled) // anything else: internal_error
	want := []seen{{http.StatusNotFound, "not_found"}, {http.StatusInternalServerError, "internal_error"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("observer saw %v, want %v", got, want)
	}

	edge.SetProblemObserver(nil)
	edge.WriteProblem(httptest.NewRecorder(), r, edge.ErrNotFound)
	if len(got) != 2 {
		t.Fatalf("a removed observer was called")
	}
}
