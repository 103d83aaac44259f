package geofence_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// problemCode is the code of the problem rec holds, "" for none.
func problemCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Type") != "application/problem+json" {
		return ""
	}
	var p struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p.Code
}

// regions are the reference topology's: uk01 in uk, us01 and us02 in us.
var regions = map[string]geofence.Region{"uk01": "uk", "us01": "us", "us02": "us"}

// poisoned is a directory that puts uk company 7 in a us zone, next to
// correct entries.
func poisoned(t *testing.T) *zone.StaticDirectory {
	t.Helper()
	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{
		"1": {Name: "us01", WebBaseURL: "https://us01.example.com", Residency: "us"},
		"3": {Name: "uk01", WebBaseURL: "https://uk01.example.com", Residency: "uk"},
		"5": {Name: "us01", WebBaseURL: "https://us01.example.com"}, // no residency promise
		"7": {Name: "us01", WebBaseURL: "https://us01.example.com", Residency: "uk"},
		"9": {Name: "eu01", WebBaseURL: "https://eu01.example.com", Residency: "uk"}, // a zone with no region
	})
	require.NoError(t, err)
	return dir
}

// recorded is an Observer that keeps every decision.
type recorded struct {
	mu        sync.Mutex
	decisions []string // region + "/" + decision
}

func (o *recorded) GeofenceDecision(_ context.Context, region, decision string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.decisions = append(o.decisions, region+"/"+decision)
}

func (o *recorded) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.decisions...)
}

// counter is a handler that counts the requests it serves.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// tracing.Instruments counts the decisions.
var _ geofence.Observer = (*tracing.Instruments)(nil)
