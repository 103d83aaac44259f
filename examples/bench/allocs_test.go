// Allocation counts are not stable under the race detector: its sync.Pool
// drops a share of what it is given at random.

//go:build !race

package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// TestAllocsPerRequest guards the allocations per proxied request of
// cellgate's fronts against the bare httputil.ReverseProxy, measured in the
// same test on the same request through the same canned cell (allocation
// counts are deterministic; no time is asserted). The request and response
// objects that the test itself makes count for every front alike.
//
// edge.ProxyTo alone must stay at most at the bare proxy's count. The router
// and the gateway may exceed it by maxFeatureAllocs: their features need a
// few allocations that the bare proxy does not make (the request's state,
// which holds its scope, request copy, ID header values and log wrappers;
// the values of the internal headers; the access log record's attributes
// past the five a slog.Record holds inline; and a larger header map to
// clone or grow, for the three header fields they add), which what
// edge.Proxy saves (pooled buffers, the X-Forwarded-* values in one piece)
// mostly pays for. Both a request shaped as the harness's (two client
// headers) and a browser's (six) are measured, as the header count decides
// whether Go's header maps grow.
func TestAllocsPerRequest(t *testing.T) {
	const token = "bench-session-token-0123456789abcdef"
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil)) // every line built and encoded
	bare, err := bareProxy("http://cell.internal")
	if err != nil {
		t.Fatal(err)
	}
	bare.(*httputil.ReverseProxy).Transport = cannedCell{}
	proxy, err := edge.ProxyTo("http://cell.internal", edge.WithTransport(cannedCell{}), edge.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	router, err := router("http://gateway.internal", cannedCell{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	gateway, _, err := gatewayFront("http://cell.internal", cannedCell{}, token, logger)
	if err != nil {
		t.Fatal(err)
	}
	harness := map[string]string{"Procore-Company-Id": "1", "Cookie": "cellgate_session=" + token}
	browser := map[string]string{"Procore-Company-Id": "1", "Cookie": "cellgate_session=" + token,
		"User-Agent": "Mozilla/5.0", "Accept": "application/json", "Accept-Encoding": "gzip, br", "Accept-Language": "en"}
	allocs := func(t *testing.T, h http.Handler, headers map[string]string) float64 {
		serve := func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodGet, benchPath, nil)
			for k, v := range headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		if w := serve(); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), cellBody) {
			t.Fatalf("answered %d %q", w.Code, w.Body)
		}
		return testing.AllocsPerRun(200, func() { serve() })
	}
	const maxFeatureAllocs = 2 // beyond the bare proxy's, for the router and the gateway
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"harness request", harness},
		{"browser request", browser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := allocs(t, bare, tc.headers)
			t.Logf("bare httputil.ReverseProxy: %.0f allocations per request", rp)
			if got := allocs(t, proxy, tc.headers); got > rp {
				t.Errorf("edge.ProxyTo: %.0f allocations per request, above the bare proxy's %.0f", got, rp)
			} else {
				t.Logf("edge.ProxyTo: %.0f", got)
			}
			for _, f := range []struct {
				name string
				h    http.Handler
			}{{"router", router}, {"gateway", gateway}} {
				got := allocs(t, f.h, tc.headers)
				if got > rp+maxFeatureAllocs {
					t.Errorf("%s: %.0f allocations per request, above the bare proxy's %.0f + %d", f.name, got, rp, maxFeatureAllocs)
				} else {
					t.Logf("%s: %.0f", f.name, got)
				}
			}
		})
	}
}
