package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// counters reads every cellgate counter and histogram count of reader as
// "name{attr=value,…}" → value, so a test compares two readings.
func counters(t *testing.T, reader *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		sort.Strings(kv)
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/cellgate/cellgate" {
			continue // otelhttp's HTTP durations
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)+".count"] = int64(p.Count)
				}
			}
		}
	}
	return out
}

// moved is what changed from before to after.
func moved(before, after map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// A piece of the walkthrough, with cellgate's instruments on an in-memory
// reader: each step moves exactly the counters it should.
func TestMetricsWalkthrough(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := start(t, false, func(c *config) { c.meters = mp })
	api := tp.urls["api"]
	hdr := map[string]string{"Procore-Company-Id": "1"}

	c, sid := tp.login("1", "alice")
	before := counters(t, reader)
	resp, body := do(t, c, http.MethodGet, api+"/rest/v1.0/me", hdr, nil)
	decodeEcho(t, resp, body)
	step := moved(before, counters(t, reader))
	t.Logf("first request: %v", step)
	assert.Equal(t, map[string]int64{
		"cellgate.passport.cache.lookups{cellgate.result=miss,cellgate.zone=us01}":      1,
		"cellgate.passport.mint.duration{cellgate.outcome=ok,cellgate.zone=us01}.count": 1,
		"cellgate.signature.verifications{cellgate.outcome=ok}":                         1, // authentication reads the session through the signed API
		"cellgate.zone.directory.lookups{cellgate.result=hit}":                          3, // router, gateway, authentication: company 1 is cached since the login
	}, step)

	before = counters(t, reader)
	resp, body = do(t, c, http.MethodGet, api+"/rest/v1.0/me", hdr, nil)
	decodeEcho(t, resp, body)
	step = moved(before, counters(t, reader))
	t.Logf("second request: %v", step)
	assert.Equal(t, map[string]int64{
		"cellgate.passport.cache.lookups{cellgate.result=hit,cellgate.zone=us01}": 1, // no mint, no authentication
		"cellgate.zone.directory.lookups{cellgate.result=hit}":                    2, // router, gateway
	}, step)

	before = counters(t, reader)
	data := random(t, 300_007)
	target := tp.urls["storage"] + "/rest/v2.1/companies/2/projects/7/uploads/metrics-1"
	resp, body = do(t, nil, http.MethodPut, tp.sign("upload", http.MethodPut, target, time.Minute), nil, bytes.NewReader(data))
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	step = moved(before, counters(t, reader))
	t.Logf("upload: %v", step)
	assert.Equal(t, map[string]int64{
		"cellgate.signature.verifications{cellgate.outcome=ok}":                            1,
		"cellgate.geofence.decisions{cellgate.decision=upload_allowed,cellgate.region=us}": 1, // the storage target is in us02's region
		"cellgate.upload.bytes{cellgate.outcome=ok,cellgate.zone=us02}":                    int64(len(data)),
		"cellgate.upload.duration{cellgate.outcome=ok,cellgate.zone=us02}.count":           1,
		"cellgate.zone.directory.lookups{cellgate.result=miss}":                            1, // company 2, first seen
		"cellgate.zone.directory.call.duration{cellgate.outcome=ok}.count":                 1,
		"cellgate.zone.directory.entries{cellgate.directory=zone}":                         1,
	}, step)
	assert.Zero(t, counters(t, reader)["cellgate.upload.active{cellgate.zone=us02}"], "no upload in flight")

	before = counters(t, reader)
	signed := tp.sign("upload", http.MethodPut, target, time.Minute)
	tampered := strings.Replace(signed, "uploads/metrics-1", "uploads/metrics-2", 1)
	resp, body = do(t, nil, http.MethodPut, tampered, nil, bytes.NewReader(data))
	assert.Equal(t, "signature_mismatch", problemCode(t, resp, body))
	resp, body = do(t, nil, http.MethodGet, api+"/rest/v1.0/me", hdr, nil)
	assert.Equal(t, "session_missing", problemCode(t, resp, body))
	step = moved(before, counters(t, reader))
	t.Logf("refused: %v", step)
	assert.Equal(t, map[string]int64{
		"cellgate.signature.verifications{cellgate.outcome=signature_mismatch}": 1,
		"cellgate.problems{cellgate.problem=signature_mismatch}":                1,
		"cellgate.problems{cellgate.problem=session_missing}":                   1,
		"cellgate.zone.directory.lookups{cellgate.result=hit}":                  2, // router, gateway
	}, step)

	before = counters(t, reader)
	revoke := tp.urls["sessions"] + "/revoke/session/" + url.PathEscape(sid)
	resp, body = do(t, nil, http.MethodPost, tp.sign("sessions", http.MethodPost, revoke, time.Minute), nil, nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "body: %s", body)
	step = moved(before, counters(t, reader))
	t.Logf("revocation: %v", step)
	assert.Equal(t, map[string]int64{
		"cellgate.passport.revocation.notices{cellgate.revocation.kind=session}": 3, // one per gateway
		"cellgate.signature.verifications{cellgate.outcome=ok}":                  1, // the signed revocation
	}, step)

	assert.Positive(t, counters(t, reader)["cellgate.zone.directory.entries{cellgate.directory=zone}"])
}

// The admin listener serves the Prometheus scrape the README shows, and
// no public host serves /metrics.
func TestMetricsScrape(t *testing.T) {
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	tp := start(t, false, func(c *config) { c.admin = "127.0.0.1:0" })
	admin := tp.admin
	require.NotEmpty(t, admin)
	resp, body := do(t, nil, http.MethodGet, tp.urls["api"]+"/rest/v1.0/me", nil, nil)
	assert.Equal(t, "company_missing", problemCode(t, resp, body))

	resp, body = do(t, nil, http.MethodGet, admin+"/metrics", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `cellgate_problems_total{cellgate_problem="company_missing"`)
	assert.Contains(t, tp.banner.String(), fmt.Sprintf("curl -s %s/metrics | grep cellgate_", admin))
	resp, _ = do(t, nil, http.MethodGet, tp.urls["api"]+"/metrics", nil, nil)
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, "not on a public host")
}
