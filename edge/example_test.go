package edge_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
)

func ExampleChain() {
	say := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Println("enter", name)
				next.ServeHTTP(w, r)
				fmt.Println("leave", name)
			})
		}
	}
	h := edge.Chain(say("outer"), say("inner"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		fmt.Println("handler")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// enter outer
	// enter inner
	// handler
	// leave inner
	// leave outer
}

func ExampleRequestID() {
	// Behind a trusted load balancer on 10.0.0.0/8, its request ID is kept;
	// anyone else gets a fresh one.
	lb, _ := edge.TrustNetworks("10.0.0.0/8")
	requestID, err := edge.RequestID(edge.WithTrust(lb))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, edge.RequestIDFromContext(r.Context()))
	}))

	for _, remote := range []string{"10.1.2.3:5000", "203.0.113.9:5000"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Request-Id", "lb-7f3a")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		id := rec.Body.String()
		fmt.Println(remote, id == "lb-7f3a", len(id), rec.Header().Get("X-Request-Id") == id)
	}
	// Output:
	// 10.1.2.3:5000 true 7 true
	// 203.0.113.9:5000 false 22 true
}

func ExampleAccessLog() {
	// Drop the time and duration so the output is stable.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	accessLog, err := edge.AccessLog(edge.WithLogger(logger))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.AddLogAttrs(r.Context(), slog.String("company", "42"))
		io.WriteString(w, "hello")
	}))
	r := httptest.NewRequest("GET", "/files/a.txt?X-Amz-Signature=never-logged", nil)
	r = r.WithContext(edge.ContextWithRequestID(r.Context(), "req-1"))
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=INFO msg=request method=GET path=/files/a.txt status=200 bytes_in=0 bytes_out=5 request_id=req-1 company=42
}

func ExampleWriteProblem() {
	errCompanyUnknown := edge.NewProblem(http.StatusNotFound, "company_unknown", "No company has this ID.")

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The cause goes to the log line, never to the client.
		err := fmt.Errorf("zone: lookup company 42: %w", errCompanyUnknown.WithCause(errors.New("row not found")))
		edge.WriteProblem(w, r, err)
	})
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(edge.ContextWithRequestID(r.Context(), "req-1"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body)
	// Output:
	// 404 application/problem+json
	// {"type":"urn:cellgate:problem:company_unknown","title":"Not Found","status":404,"detail":"No company has this ID.","code":"company_unknown","request_id":"req-1"}
}

func ExampleProblem() {
	errRateLimited := edge.NewProblem(http.StatusTooManyRequests, "rate_limited", "Slow down.")
	err := fmt.Errorf("zone: company 42: %w", errRateLimited.WithCause(errors.New("bucket empty")))

	// Callers branch on the code, with errors.Is.
	fmt.Println(errors.Is(err, errRateLimited))
	fmt.Println(errors.Is(err, edge.ErrInternal))
	fmt.Println(err)

	// A problem never changes: WithDetail explains one occurrence in a copy,
	// and the sentinel answers as before.
	notFound := edge.ErrNotFound.WithDetail("No upload has this ID.")
	fmt.Println(errors.Is(notFound, edge.ErrNotFound), notFound.Detail())
	fmt.Println(edge.ErrNotFound.Status(), edge.ErrNotFound.Code(), edge.ErrNotFound.Detail())
	// Output:
	// true
	// false
	// zone: company 42: rate_limited: Slow down.: bucket empty
	// true No upload has this ID.
	// 404 not_found There is nothing at this method and path.
}

func ExampleBinding() {
	// An internal-only service refuses anything that did not come through a
	// binding, whatever headers it carries.
	auth := http.NewServeMux()
	auth.HandleFunc("POST /mint", func(w http.ResponseWriter, r *http.Request) {
		if !edge.ViaBinding(r) {
			edge.WriteProblem(w, r, edge.NewProblem(http.StatusForbidden, "internal_only", "Internal service."))
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "passport for %s (request %s)", body, r.Header.Get("X-Request-Id"))
	})

	client := &http.Client{Transport: edge.Binding(auth)}
	ctx := edge.ContextWithRequestID(context.Background(), "req-1")
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://auth/mint", strings.NewReader("session-7"))
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))

	// The same handler on a network listener refuses the call.
	srv := httptest.NewServer(auth)
	defer srv.Close()
	resp, err = http.Post(srv.URL+"/mint", "text/plain", strings.NewReader("session-7"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 passport for session-7 (request req-1)
	// 403
}

func ExampleStripInternal() {
	strip, err := edge.StripInternal(edge.WithStripHeaders("X-Passport"))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := strip(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names := make([]string, 0, len(r.Header))
		for name := range r.Header {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Println(names)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header = http.Header{
		"Cellgate-Zone":      {"us01"},
		"Cellgate_Company":   {"7"},
		"X-Passport":         {"forged"},
		"X-Forwarded-For":    {"1.2.3.4"},
		"Procore-Company-Id": {"7"},
		"Accept":             {"*/*"},
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// [Accept Procore-Company-Id]
}

func ExampleNewHealth() {
	h, err := edge.NewHealth([]edge.Check{
		{Name: "directory", Run: func(context.Context) error { return nil }},
		{Name: "sessions", Run: func(context.Context) error { return errors.New("redis: connection refused") }},
	}, edge.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /livez", h.Live())
	mux.Handle("GET /readyz", h.Ready())

	for _, path := range []string{"/livez", "/readyz"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code)
	}
	rep := h.Run(context.Background())
	fmt.Println(rep.Status, rep.Checks["directory"].Status, rep.Checks["sessions"].Status)

	_, err = edge.NewHealth([]edge.Check{{Name: "db", Run: nil}})
	fmt.Println(err)
	// Output:
	// /livez 200
	// /readyz 503
	// fail ok fail
	// edge: health check "db" has no Run function
}

func ExampleSecurityHeaders() {
	secure, err := edge.SecurityHeaders(edge.WithCSP("script-src 'nonce-{nonce}'"))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script nonce="%s">`, edge.CSPNonceFromContext(r.Context()))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))

	nonce := strings.TrimSuffix(strings.TrimPrefix(rec.Body.String(), `<script nonce="`), `">`)
	fmt.Println(rec.Header().Get("Content-Security-Policy") == "script-src 'nonce-"+nonce+"'")
	fmt.Println(rec.Header().Get("Strict-Transport-Security"))
	fmt.Println(rec.Header().Get("X-Content-Type-Options"))
	fmt.Println(rec.Header().Get("Referrer-Policy"))
	// Output:
	// true
	// max-age=31536000; includeSubDomains
	// nosniff
	// strict-origin-when-cross-origin
}

func ExampleTLSFloor() {
	floor, err := edge.TLSFloor(tls.VersionTLS12)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := floor(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "welcome")
	}))
	for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS13} {
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		r.TLS = &tls.ConnectionState{Version: v}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(tls.VersionName(v), rec.Code)
	}

	// Refuse old clients at the handshake, too.
	srv := &http.Server{Handler: h, TLSConfig: edge.TLSConfig(tls.VersionTLS12)}
	fmt.Println(tls.VersionName(srv.TLSConfig.MinVersion))
	// Output:
	// TLS 1.1 403
	// TLS 1.3 200
	// TLS 1.2
}

func ExampleNewProxy() {
	us01 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "us01 %s %s proto=%s id=%s", r.Method, r.URL.Path,
			r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Request-Id"))
	}))
	defer us01.Close()
	zones := map[string]string{"us01": us01.URL}

	errZoneUnknown := edge.NewProblem(http.StatusNotFound, "zone_unknown", "No such zone.")
	proxy, err := edge.NewProxy(func(r *http.Request) (*url.URL, error) {
		base, ok := zones[r.Header.Get("Zone")] // allow-listed upstreams only
		if !ok {
			return nil, errZoneUnknown
		}
		return url.Parse(base)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	requestID, err := edge.RequestID()
	if err != nil {
		fmt.Println(err)
		return
	}
	strip, err := edge.StripInternal()
	if err != nil {
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(edge.Chain(requestID, strip)(proxy))
	defer front.Close()

	for _, zone := range []string{"us01", "mars"} {
		req, _ := http.NewRequest("GET", front.URL+"/projects/7", nil)
		req.Header.Set("Zone", zone)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") == edge.ContentTypeProblem {
			var p struct{ Code string }
			json.Unmarshal(body, &p)
			fmt.Println(resp.StatusCode, p.Code)
			continue
		}
		// The upstream saw the request ID the client was given.
		fmt.Println(resp.StatusCode, strings.Replace(string(body), resp.Header.Get("X-Request-Id"), "<same>", 1))
	}
	// Output:
	// 200 us01 GET /projects/7 proto=http id=<same>
	// 404 zone_unknown
}

func ExampleNewServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	srv, err := edge.NewServer(mux,
		edge.WithServerName("api"),
		edge.WithShutdownGrace(5*time.Second), // in-flight requests get this long once ctx ends
		edge.WithConnLimits(edge.ConnLimits{PerClient: 64}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background()) // signal.NotifyContext in a main
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	stop()
	fmt.Println("shut down:", <-done)
	// Output:
	// 200 hello
	// shut down: <nil>
}
