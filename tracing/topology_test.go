package tracing_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

const (
	uploadPattern  = "PUT /rest/v2.1/companies/{companyId}/uploads/{uploadId}"
	inboundTrace   = "4bf92f3577b34da6a3ce929d0e0e4736"
	inboundSpan    = "00f067aa0ba902b7"
	sessionToken   = "session-token-7f3a9c"
	passportToken  = "eyJhbGciOiJFUzI1NiJ9.passport-claims.passport-sig"
	s3Presigned    = "https://bucket.s3.amazonaws.com/u1.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260301&X-Amz-Signature=5e1f00d4c0ffee"
	azurePresigned = "https://acct.blob.core.windows.net/files/u1.bin?sv=2024-11-04&sr=b&sp=cw&se=2026-03-01T13%3A00%3A00Z&sig=QmFzZTY0U0FTc2ln%3D"
	signedQuery    = "expires_at=1772370000&kid=k1&sig=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// topology is router (public edge) → gateway (adds a passport) → cell, all
// in-process through edge.Binding wrapped in tracing.Transport; the cell
// then PUTs to two presigned storage URLs.
type topology struct {
	router http.Handler
	spans  *tracetest.SpanRecorder
	cell   chan *http.Request // what the cell received
}

func newTopology(t *testing.T) *topology {
	sr, tp := recorder(t)
	clk := newClock()
	top := &topology{spans: sr, cell: make(chan *http.Request, 1)}
	traced := func(rt http.RoundTripper) http.RoundTripper {
		return must.Build(tracing.Transport(rt, tracing.WithTracerProvider(tp)))
	}

	storage := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	})
	storageClient := &http.Client{Transport: traced(edge.Binding(storage))}

	cellMux := http.NewServeMux()
	cellMux.HandleFunc(uploadPattern, func(w http.ResponseWriter, r *http.Request) {
		top.cell <- r.Clone(r.Context())
		ctx := r.Context()

		stop := tracing.StartTimer(ctx, "upload.fetch_cloud_storage_url_duration_ms")
		clk.Advance(12 * time.Millisecond) // the file upload service answers
		stop()

		stop = tracing.StartTimer(ctx, "upload.stream_to_cloud_storage_duration_ms")
		for _, u := range []string{s3Presigned, azurePresigned} {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader("file bytes"))
			if err != nil {
				t.Error(err)
				return
			}
			res, err := storageClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		clk.Advance(340 * time.Millisecond) // the bytes flow
		if got := stop(); got != 340*time.Millisecond {
			t.Errorf("stop() = %v, want 340ms", got)
		}
		w.WriteHeader(http.StatusCreated)
	})
	cell := edge.Chain(
		must.Build(tracing.Middleware("cell", tracing.WithTracerProvider(tp), tracing.WithClock(clk.Now))),
		must.Build(edge.RequestID(edge.WithTrust(edge.TrustBinding))),
		tracing.Route,
	)(cellMux)

	toCell, err := edge.ProxyTo("http://cell.internal", edge.WithTransport(traced(edge.Binding(cell))), quiet)
	if err != nil {
		t.Fatal(err)
	}
	gateway := edge.Chain(
		must.Build(tracing.Middleware("gateway", tracing.WithTracerProvider(tp))),
		must.Build(edge.RequestID(edge.WithTrust(edge.TrustBinding))),
		must.Build(edge.AccessLog(quiet)),
		func(next http.Handler) http.Handler { // mints the passport
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+passportToken)
				edge.AddLogAttrs(r.Context(), slog.String("zone", "us01"))
				next.ServeHTTP(w, r)
			})
		},
	)(toCell)

	toGateway, err := edge.ProxyTo("http://gateway-us01.internal", edge.WithTransport(traced(edge.Binding(gateway))), quiet)
	if err != nil {
		t.Fatal(err)
	}
	routerMux := http.NewServeMux()
	routerMux.Handle(uploadPattern, toGateway)
	top.router = edge.Chain(
		must.Build(tracing.Middleware("router", tracing.Root(), tracing.WithTracerProvider(tp))),
		must.Build(edge.RequestID()),
		must.Build(edge.AccessLog(quiet)),
		must.Build(edge.StripInternal()),
		func(next http.Handler) http.Handler { // what zone.Resolve reports
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				edge.AddLogAttrs(r.Context(),
					slog.String("company", r.Header.Get("Procore-Company-Id")),
					slog.String("zone", "us01"),
					slog.String("error", "lookup failed once: "+r.URL.RawQuery)) // never copied
				next.ServeHTTP(w, r)
			})
		},
		tracing.Route,
	)(routerMux)
	return top
}

func (top *topology) upload(t *testing.T) (*httptest.ResponseRecorder, []sdktrace.ReadOnlySpan) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPut, "/rest/v2.1/companies/42/uploads/u1?"+signedQuery, strings.NewReader("file bytes"))
	r.Header.Set("Procore-Company-Id", "42")
	r.Header.Set("Traceparent", "00-"+inboundTrace+"-"+inboundSpan+"-01")
	r.Header.Set("Baggage", "tenant=evil")
	r.Header.Set("Cookie", "session="+sessionToken)
	w := httptest.NewRecorder()
	top.router.ServeHTTP(w, r)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	return w, top.spans.Ended()
}

// find returns the server span of Middleware op, or the client span whose
// url.full starts with url.
func find(t *testing.T, spans []sdktrace.ReadOnlySpan, op string, kind trace.SpanKind, url string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.SpanKind() != kind {
			continue
		}
		if kind == trace.SpanKindServer {
			if v, _ := attr(s, string(tracing.OperationKey)); v == op {
				return s
			}
			continue
		}
		if v, _ := attr(s, "url.full"); strings.HasPrefix(v, url) {
			return s
		}
	}
	t.Fatalf("no %s span %s %s among %d", kind, op, url, len(spans))
	return nil
}

func TestTopologyIsOneTrace(t *testing.T) {
	top := newTopology(t)
	w, spans := top.upload(t)
	if len(spans) != 7 {
		for _, s := range spans {
			t.Logf("%s %s", s.SpanKind(), s.Name())
		}
		t.Fatalf("got %d spans, want 7", len(spans))
	}

	router := find(t, spans, "router", trace.SpanKindServer, "")
	toGateway := find(t, spans, "", trace.SpanKindClient, "http://gateway-us01.internal/")
	gateway := find(t, spans, "gateway", trace.SpanKindServer, "")
	toCell := find(t, spans, "", trace.SpanKindClient, "http://cell.internal/")
	cell := find(t, spans, "cell", trace.SpanKindServer, "")
	toS3 := find(t, spans, "", trace.SpanKindClient, "https://bucket.s3.amazonaws.com/")
	toAzure := find(t, spans, "", trace.SpanKindClient, "https://acct.blob.core.windows.net/")

	chain := []struct {
		name          string
		child, parent sdktrace.ReadOnlySpan
	}{
		{"router → gateway call", toGateway, router},
		{"gateway call → gateway", gateway, toGateway},
		{"gateway → cell call", toCell, gateway},
		{"cell call → cell", cell, toCell},
		{"cell → S3", toS3, cell},
		{"cell → Azure", toAzure, cell},
	}
	traceID := router.SpanContext().TraceID()
	for _, c := range chain {
		if got, want := c.child.Parent().SpanID(), c.parent.SpanContext().SpanID(); got != want {
			t.Errorf("%s: parent %s, want %s", c.name, got, want)
		}
		if got := c.child.SpanContext().TraceID(); got != traceID {
			t.Errorf("%s: trace %s, want %s", c.name, got, traceID)
		}
	}

	// The root: a new trace, the client's context only as a link.
	if router.Parent().IsValid() {
		t.Errorf("router span has parent %s; the public edge must start the trace", router.Parent().SpanID())
	}
	if traceID.String() == inboundTrace {
		t.Error("router span continues the client's trace")
	}
	links := router.Links()
	if len(links) != 1 || links[0].SpanContext.TraceID().String() != inboundTrace ||
		links[0].SpanContext.SpanID().String() != inboundSpan {
		t.Errorf("router links = %+v, want the inbound %s/%s", links, inboundTrace, inboundSpan)
	}

	// What the cell was sent: the router's trace, no client baggage, the passport.
	in := <-top.cell
	if got := in.Header.Get("Traceparent"); !strings.Contains(got, traceID.String()) {
		t.Errorf("cell got traceparent %q, want trace %s", got, traceID)
	}
	if got := in.Header.Get("Baggage"); got != "" {
		t.Errorf("cell got baggage %q from the internet", got)
	}
	if b := baggage.FromContext(in.Context()); b.Len() != 0 {
		t.Errorf("cell context carries baggage %q", b.String())
	}
	if in.Header.Get("Authorization") != "Bearer "+passportToken {
		t.Errorf("cell got Authorization %q, want the passport", in.Header.Get("Authorization"))
	}

	// Names from patterns, never raw paths.
	for s, want := range map[sdktrace.ReadOnlySpan]string{
		router:  "PUT /rest/v2.1/companies/{companyId}/uploads/{uploadId}",
		cell:    "PUT /rest/v2.1/companies/{companyId}/uploads/{uploadId}",
		gateway: "PUT", // no mux: the proxy is the handler
	} {
		if s.Name() != want {
			t.Errorf("span name %q, want %q", s.Name(), want)
		}
	}
	if got, _ := attr(router, "http.route"); got != "/rest/v2.1/companies/{companyId}/uploads/{uploadId}" {
		t.Errorf("router http.route = %q", got)
	}

	// Request ID, company and zone on the server spans.
	id := w.Header().Get(edge.RequestIDHeader)
	if id == "" {
		t.Fatal("no request ID in the response")
	}
	for _, s := range []sdktrace.ReadOnlySpan{router, gateway, cell} {
		op, _ := attr(s, string(tracing.OperationKey))
		if got, _ := attr(s, string(tracing.RequestIDKey)); got != id {
			t.Errorf("%s: request ID %q, want %q", op, got, id)
		}
	}
	for s, want := range map[sdktrace.ReadOnlySpan][2]string{router: {"42", "us01"}, gateway: {"", "us01"}} {
		company, _ := attr(s, string(tracing.CompanyKey))
		zone, _ := attr(s, string(tracing.ZoneKey))
		if company != want[0] || zone != want[1] {
			t.Errorf("company/zone = %q/%q, want %q/%q", company, zone, want[0], want[1])
		}
	}
	if _, ok := attr(router, "error"); ok {
		t.Error("an unrecognised log field was copied to the span")
	}

	// The seed's upload attributes, measured by the injected clock.
	for key, want := range map[string]string{
		"upload.fetch_cloud_storage_url_duration_ms": "12",
		"upload.stream_to_cloud_storage_duration_ms": "340",
	} {
		if got, ok := attr(cell, key); got != want {
			t.Errorf("%s = %q (present %v), want %s", key, got, ok, want)
		}
	}
}

func TestTopologyExportsNoSecret(t *testing.T) {
	top := newTopology(t)
	_, spans := top.upload(t)
	assertNoSecret(t, spans,
		"sig=", "X-Amz-Signature", "X-Amz-Credential", "sv=", "QmFzZTY0U0FTc2ln", "5e1f00d4c0ffee",
		"9f86d081884c7d659a2feaa0c55ad015", "expires_at", "?",
		sessionToken, "passport", "evil")

	// Redacted, not dropped: the storage calls still say where they went.
	toS3 := find(t, spans, "", trace.SpanKindClient, "https://bucket.s3.amazonaws.com/")
	if got, _ := attr(toS3, "url.full"); got != "https://bucket.s3.amazonaws.com/u1.bin" {
		t.Errorf("url.full = %q, want the URL without its query", got)
	}
}
