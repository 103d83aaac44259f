package edge_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
)

// A sentinel problem cannot be changed by a caller: its fields cannot be
// assigned (a compile error), and what a caller makes from it is a copy.
func TestProblemSentinelUnchangeable(t *testing.T) {
	ok := `package main

import "github.com/cellgate/cellgate/edge"

func main() { _ = edge.ErrNotFound.WithDetail("No upload has this ID.") }
`
	misuse := `package main

import "github.com/cellgate/cellgate/edge"

func main() { edge.ErrNotFound.Detail = "No upload has this ID." }
`
	compilecheck.Fails(t, ok, misuse, regexp.MustCompile(`cannot assign to edge.ErrNotFound.Detail`))
}

func TestProblemCopies(t *testing.T) {
	before := edge.ErrNotFound.Error()
	for _, q := range []*edge.Problem{
		edge.ErrNotFound.WithDetail("No upload has this ID."),
		edge.ErrNotFound.WithTitle("Gone Fishing"),
		edge.ErrNotFound.WithCause(errors.New("row not found")),
	} {
		if !errors.Is(q, edge.ErrNotFound) || !errors.Is(fmt.Errorf("wrapped: %w", q), edge.ErrNotFound) {
			t.Errorf("%v is not ErrNotFound to errors.Is", q)
		}
		var p *edge.Problem
		if !errors.As(fmt.Errorf("wrapped: %w", q), &p) || p != q {
			t.Errorf("errors.As did not find %v", q)
		}
	}
	if got := edge.ErrNotFound.Error(); got != before || edge.ErrNotFound.Title() != "" {
		t.Errorf("ErrNotFound changed: %q, title %q", got, edge.ErrNotFound.Title())
	}
	rec := httptest.NewRecorder()
	edge.WriteProblem(rec, httptest.NewRequest("GET", "/", nil), edge.ErrNotFound)
	var body struct{ Detail, Title string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Detail != "There is nothing at this method and path." || body.Title != "Not Found" {
		t.Errorf("ErrNotFound is answered %+v", body)
	}
}

// A Problem encodes to its client-visible members, never its cause, and
// decodes into a new Problem; decoding into a sentinel is refused and
// leaves it as it was.
func TestProblemJSON(t *testing.T) {
	p := edge.ErrUpstreamTimeout.WithTitle("Slow").WithCause(errors.New("dial 10.0.0.7: timeout"))
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":504,"code":"upstream_timeout","title":"Slow","detail":"The upstream service did not answer in time."}`
	if string(data) != want {
		t.Fatalf("encoded %s, want %s", data, want)
	}
	var q edge.Problem
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatal(err)
	}
	if q.Status() != 504 || q.Code() != "upstream_timeout" || q.Title() != "Slow" || q.Detail() != p.Detail() || q.Unwrap() != nil {
		t.Errorf("decoded %v", &q)
	}
	before := edge.ErrInternal.Error()
	if err := json.Unmarshal([]byte(`{"status":200,"code":"ok"}`), edge.ErrInternal); err == nil {
		t.Error("decoded into ErrInternal")
	}
	if edge.ErrInternal.Error() != before || edge.ErrInternal.Status() != http.StatusInternalServerError {
		t.Errorf("ErrInternal changed to %v", edge.ErrInternal)
	}
}
