package tracing_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/tracing"
)

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// copying passes a copy of the request on, as every middleware that adds
// to the context does.
func copying(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(r.Context()))
	})
}

func TestMiddlewareSpanName(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", ok)
	mux.HandleFunc("GET api.example.com/hosted/{id}", ok)
	mux.HandleFunc("/any/", ok)

	tests := []struct {
		name      string
		chain     []middleware
		method    string
		target    string
		wantName  string
		wantRoute string
	}{
		{"mux wrapped directly", nil, "GET", "/items/7", "GET /items/{id}", "/items/{id}"},
		{"copy hides the pattern", []middleware{copying}, "GET", "/items/7", "GET", ""},
		{"Route finds it again", []middleware{copying, tracing.Route}, "GET", "/items/7", "GET /items/{id}", "/items/{id}"},
		{"host pattern", nil, "GET", "http://api.example.com/hosted/7", "GET /hosted/{id}", "/hosted/{id}"},
		{"no route: method only", nil, "GET", "/nowhere/7", "GET", ""},
		{"made-up method", nil, "BREW", "/any/pot", "HTTP /any/", "/any/"},
		{"made-up method, no route", []middleware{copying}, "BREW", "/any/pot", "HTTP", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr, tp := recorder(t)
			chain := append([]middleware{must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp)))}, tt.chain...)
			h := edge.Chain(chain...)(mux)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.target, nil))

			spans := sr.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			if got := spans[0].Name(); got != tt.wantName {
				t.Errorf("name %q, want %q", got, tt.wantName)
			}
			if got, _ := attr(spans[0], "http.route"); got != tt.wantRoute {
				t.Errorf("http.route %q, want %q", got, tt.wantRoute)
			}
			if got, _ := attr(spans[0], "url.path"); got == "" {
				t.Error("url.path missing: the path belongs in an attribute, not the name")
			}
		})
	}
}

func TestMiddlewareParent(t *testing.T) {
	const parent = "00-" + inboundTrace + "-" + inboundSpan + "-01"
	tests := []struct {
		name        string
		opts        []tracing.MiddlewareOption
		traceparent string
		wantParent  bool // the inbound span is the parent
		wantLink    bool // the inbound span is a link
	}{
		{"inside continues the caller", nil, parent, true, false},
		{"inside without caller starts a trace", nil, "", false, false},
		{"root links the caller", []tracing.MiddlewareOption{tracing.Root()}, parent, false, true},
		{"root without caller", []tracing.MiddlewareOption{tracing.Root()}, "", false, false},
		{"root ignores garbage", []tracing.MiddlewareOption{tracing.Root()}, "00-zz-yy-01", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr, tp := recorder(t)
			var sawHeader string
			h := must.Build(tracing.Middleware("svc", append(tt.opts, tracing.WithTracerProvider(tp))...))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					sawHeader = r.Header.Get("Traceparent")
				}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.traceparent != "" {
				r.Header.Set("Traceparent", tt.traceparent)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)

			s := sr.Ended()[0]
			if got := s.Parent().IsValid(); got != tt.wantParent {
				t.Errorf("has parent %v, want %v", got, tt.wantParent)
			}
			if tt.wantParent && (s.Parent().SpanID().String() != inboundSpan || s.SpanContext().TraceID().String() != inboundTrace) {
				t.Errorf("parent %s in trace %s, want %s in %s", s.Parent().SpanID(), s.SpanContext().TraceID(), inboundSpan, inboundTrace)
			}
			if !tt.wantParent && s.SpanContext().TraceID().String() == inboundTrace {
				t.Error("span joined the inbound trace")
			}
			if got := len(s.Links()) == 1; got != tt.wantLink {
				t.Errorf("links %v, want a link: %v", s.Links(), tt.wantLink)
			}
			if tt.wantLink && s.Links()[0].SpanContext.SpanID().String() != inboundSpan {
				t.Errorf("link to %s, want %s", s.Links()[0].SpanContext.SpanID(), inboundSpan)
			}
			root := len(tt.opts) > 0
			if root && sawHeader != "" {
				t.Errorf("handler behind the root still sees Traceparent %q", sawHeader)
			}
			if !root && sawHeader != tt.traceparent {
				t.Errorf("handler sees Traceparent %q, want it untouched", sawHeader)
			}
		})
	}
}

// With nothing set up (the no-op provider) otelhttp is skipped, yet the inside
// of the topology still passes the caller's trace and baggage on, and the
// public edge still never does.
func TestMiddlewareWithoutProvider(t *testing.T) {
	const parent = "00-" + inboundTrace + "-" + inboundSpan + "-01"
	tests := []struct {
		name        string
		opts        []tracing.MiddlewareOption
		traceparent string
		want        string // traceparent of the outbound call
		wantBaggage string
	}{
		{"inside", nil, parent, parent, "tenant=t1"},
		{"inside, no caller", nil, "", "", "tenant=t1"},
		{"root", []tracing.MiddlewareOption{tracing.Root()}, parent, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := tracing.WithTracerProvider(noop.NewTracerProvider())
			var outbound http.Header
			next := must.Build(tracing.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				outbound = r.Header
				return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
			}), tp))
			clk := newClock()
			var timed time.Duration
			h := must.Build(tracing.Middleware("svc", append(tt.opts, tp, tracing.WithClock(clk.Now))...))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				stop := tracing.StartTimer(r.Context(), "step_ms")
				clk.Advance(3 * time.Millisecond)
				timed = stop()
				req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://next.internal/", nil)
				res, err := next.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if req.Header.Get("Traceparent") != "" || req.Header.Get("Baggage") != "" {
					t.Error("Transport modified the caller's request")
				}
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.traceparent != "" {
				r.Header.Set("Traceparent", tt.traceparent)
			}
			r.Header.Set("Baggage", "tenant=t1")
			h.ServeHTTP(httptest.NewRecorder(), r)

			if got := outbound.Get("Traceparent"); got != tt.want {
				t.Errorf("outbound traceparent %q, want %q", got, tt.want)
			}
			if got := outbound.Get("Baggage"); got != tt.wantBaggage {
				t.Errorf("outbound baggage %q, want %q", got, tt.wantBaggage)
			}
			if timed != 3*time.Millisecond {
				t.Errorf("timer %v, want the injected 3ms", timed)
			}
		})
	}
}

func TestMiddlewareAttributes(t *testing.T) {
	problem := edge.NewProblem(http.StatusConflict, "zone_moved", "The company moved.")
	tests := []struct {
		name    string
		chain   func(tracing, handler http.Handler) http.Handler
		handler http.HandlerFunc
		want    map[attribute.Key]string
		absent  []string
	}{
		{
			name: "problem code, not its cause",
			handler: func(w http.ResponseWriter, r *http.Request) {
				edge.WriteProblem(w, r, problem.WithCause(errSecret))
			},
			want:   map[attribute.Key]string{tracing.ProblemKey: "zone_moved", "http.response.status_code": "409"},
			absent: []string{"error", "problem"},
		},
		{
			name: "company and zone",
			handler: func(w http.ResponseWriter, r *http.Request) {
				edge.AddLogAttrs(r.Context(), slogString("company", "42"), slogString("zone", "uk01"), slogString("key_id", "k9"))
			},
			want:   map[attribute.Key]string{tracing.CompanyKey: "42", tracing.ZoneKey: "uk01"},
			absent: []string{"key_id", "company", "zone"},
		},
		{
			name: "region and client country (zone/geofence)",
			handler: func(w http.ResponseWriter, r *http.Request) {
				edge.AddLogAttrs(r.Context(), slogString("region", "uk"), slogString("client_country", "GB"))
			},
			want:   map[attribute.Key]string{tracing.RegionKey: "uk", tracing.ClientCountryKey: "GB"},
			absent: []string{"region", "client_country"},
		},
		{
			name: "request ID from the response header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(edge.RequestIDHeader, "from-header")
			},
			want: map[attribute.Key]string{tracing.RequestIDKey: "from-header"},
		},
		{
			name: "request ID from the context wins",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(edge.RequestIDHeader, "from-header")
			},
			chain: func(traced, h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					traced.ServeHTTP(w, r.WithContext(edge.ContextWithRequestID(r.Context(), "from-context")))
				})
			},
			want: map[attribute.Key]string{tracing.RequestIDKey: "from-context"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr, tp := recorder(t)
			var h http.Handler = must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp)))(tt.handler)
			if tt.chain != nil {
				h = tt.chain(h, tt.handler)
			}
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			s := sr.Ended()[0]
			for k, want := range tt.want {
				if got, _ := attr(s, string(k)); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := attr(s, k); ok {
					t.Errorf("unrecognised %s = %q copied", k, v)
				}
			}
			assertNoSecret(t, sr.Ended(), errSecret.Error())
		})
	}
}

// The access log and the span see the same collected fields whatever their
// order in the chain.
func TestMiddlewareSharesAccessLogFields(t *testing.T) {
	add := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.AddLogAttrs(r.Context(), slogString("zone", "us02"))
	})
	for name, chain := range map[string][]middleware{
		"tracing outside": {nil, must.Build(edge.AccessLog(quiet))},
		"tracing inside":  {must.Build(edge.AccessLog(quiet)), nil},
	} {
		t.Run(name, func(t *testing.T) {
			sr, tp := recorder(t)
			for i := range chain {
				if chain[i] == nil {
					chain[i] = must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp)))
				}
			}
			edge.Chain(chain...)(add).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			if got, _ := attr(sr.Ended()[0], string(tracing.ZoneKey)); got != "us02" {
				t.Errorf("zone %q, want us02", got)
			}
		})
	}
}

// A request the sampler drops is served as usual and records nothing.
func TestMiddlewareNotSampled(t *testing.T) {
	sr, _ := recorder(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(sr))
	clk := newClock()
	var recording bool
	h := must.Build(tracing.Middleware("svc", tracing.WithTracerProvider(tp), tracing.WithClock(clk.Now)))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			recording = trace.SpanFromContext(r.Context()).IsRecording()
			stop := tracing.StartTimer(r.Context(), "step_ms")
			clk.Advance(7 * time.Millisecond)
			if got := stop(); got != 7*time.Millisecond {
				t.Errorf("timer %v, want the injected clock's 7ms", got)
			}
			w.WriteHeader(http.StatusAccepted)
		}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusAccepted || recording || len(sr.Ended()) != 0 {
		t.Errorf("status %d, recording %v, %d spans; want 202, false, 0", w.Code, recording, len(sr.Ended()))
	}
}

// TestRootClientAddress closes hole 8 of issue 12: at a root, a client's
// forwarding headers, in any spelling, never become client.address; a
// trusted hop's do.
func TestRootClientAddress(t *testing.T) {
	lb := func(r *http.Request) bool { return r.RemoteAddr == "10.0.0.1:443" }
	tests := []struct {
		name   string
		remote string
		header http.Header
		want   string
	}{
		{"forged X-Forwarded-For", "203.0.113.7:5555", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"forged X_Forwarded_For", "203.0.113.7:5555", http.Header{"X_Forwarded_For": {"198.51.100.1"}}, "203.0.113.7"},
		{"forged lower-case spelling", "203.0.113.7:5555", http.Header{"x-forwarded-for": {"198.51.100.1"}}, "203.0.113.7"},
		{"forged Forwarded", "203.0.113.7:5555", http.Header{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.7"},
		{"trusted hop", "10.0.0.1:443", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr, tp := recorder(t)
			var seen http.Header
			h := must.Build(tracing.Middleware("router", tracing.Root(), tracing.WithTracerProvider(tp), tracing.WithTrust(lb)))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			req.Header = tt.header.Clone()
			h.ServeHTTP(httptest.NewRecorder(), req)

			spans := sr.Ended()
			require.Len(t, spans, 1)
			got, _ := attr(spans[0], "client.address")
			assert.Equal(t, tt.want, got)
			if tt.want == "203.0.113.7" {
				for name := range seen {
					assert.False(t, edge.HasHeaderNamePrefix(name, "X-Forwarded-") || edge.SameHeaderName(name, "Forwarded"),
						"forwarding header %q passed the root", name)
				}
			}
		})
	}
}

type middleware = func(http.Handler) http.Handler
