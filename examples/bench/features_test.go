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

// cannedCell answers every request with cellBody without a network: what
// the benchmarks below measure is the front's own work, not loopback's.
type cannedCell struct{}

// Unwrap makes the canned cell pass, to edge.NewProxy, for the
// *http.Transport that the fronts use under wrk (which bounds the response
// header wait itself), so that edge does not wrap it in a per-request timer
// of its own that no front pays under wrk.
func (cannedCell) Unwrap() http.RoundTripper { return boundedTransport }

var boundedTransport = &http.Transport{ResponseHeaderTimeout: edge.DefaultResponseHeaderTimeout}

func (cannedCell) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {"43"}},
		Body:          io.NopCloser(bytes.NewReader(cellBody)),
		ContentLength: int64(len(cellBody)),
		Request:       req,
	}, nil
}

// BenchmarkFeatures serves the harness's request in process through
// cellgate's own proxy alone and through the router and the gateway (warm
// passport cache), each to a canned cell: the differences are the cost of
// the features on top of the proxy (request ID, access log, company, zone,
// passport, header hygiene) without the network, the scheduler or the
// load generator around them. log=json formats each access line as JSON
// (to io.Discard); log=off gives a logger that is never enabled.
func BenchmarkFeatures(b *testing.B) {
	const token = "bench-session-token-0123456789abcdef"
	for _, log := range []struct {
		name string
		l    *slog.Logger
	}{
		{"log=json", slog.New(slog.NewJSONHandler(io.Discard, nil))},
		{"log=off", slog.New(slog.DiscardHandler)},
	} {
		proxy, err := edge.ProxyTo("http://cell.internal", edge.WithTransport(cannedCell{}), edge.WithLogger(log.l))
		if err != nil {
			b.Fatal(err)
		}
		router, err := router("http://gateway.internal", cannedCell{}, log.l)
		if err != nil {
			b.Fatal(err)
		}
		gateway, _, err := gatewayFront("http://cell.internal", cannedCell{}, token, log.l)
		if err != nil {
			b.Fatal(err)
		}
		bare, err := bareProxy("http://cell.internal")
		if err != nil {
			b.Fatal(err)
		}
		bare.(*httputil.ReverseProxy).Transport = cannedCell{}
		for _, f := range []struct {
			name string
			h    http.Handler
		}{{"rp", bare}, {"edgeproxy", proxy}, {"router", router}, {"gateway", gateway}} {
			b.Run(f.name+"/"+log.name, func(b *testing.B) {
				serve := func() *httptest.ResponseRecorder {
					r := httptest.NewRequest(http.MethodGet, benchPath, nil)
					r.Header.Set("Procore-Company-Id", "1")
					r.Header.Set("Cookie", "cellgate_session="+token)
					w := httptest.NewRecorder()
					f.h.ServeHTTP(w, r)
					return w
				}
				if w := serve(); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), cellBody) {
					b.Fatalf("%s answered %d %q", f.name, w.Code, w.Body)
				}
				b.ReportAllocs()
				for b.Loop() {
					serve()
				}
			})
		}
	}
}
