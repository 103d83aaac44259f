package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrClientClosed is logged when the client went away before the upstream
// answered (nginx's 499); the client never sees it.
var ErrClientClosed = NewProblem(499, "client_closed_request", "The client closed the request.").
	WithTitle("Client Closed Request")

var proxyTargetKey = NewKey[*url.URL]("edge.proxy_target")

// Proxy forwards requests to an upstream chosen per request. It is
// httputil.ReverseProxy with Rewrite: the standard hop-by-hop headers
// removed (a Connection header cannot remove any other: what the
// middlewares in front set always reaches the upstream), protocol switches
// refused but on the routes declared with [WithWebSocket],
// X-Forwarded-For/-Host/-Proto set from the inbound request, the request ID
// propagated (the upstream's X-Request-Id is dropped from the response,
// which carries this hop's), bodies streamed through pooled 32 KiB buffers,
// streaming responses flushed at once, and upstream failures answered as problems
// (upstream_unavailable 502, upstream_timeout 504, body_timeout 408 when
// the client's body stalled under [BodyIdle]) that never name the upstream.
type Proxy struct {
	target func(*http.Request) (*url.URL, error)
	fixed  *url.URL // ProxyTo's upstream: no per-request lookup
	rp     httputil.ReverseProxy
	trust  Trust
	ws     func(*http.Request) bool // routes that may switch to websocket; nil: none
}

// NewProxy returns a proxy that sends each request to the URL that target
// returns for it. The target's path is joined in front of the request's
// path, as httputil.ProxyRequest.SetURL does. An error from target is
// answered through [WriteProblem], so target may return a *Problem.
//
// Its options are [WithTransport], [WithLogger], [WithFlushInterval],
// [WithFlushEveryWrite], [WithResponseHeaderTimeout] (a hung upstream is
// answered 504 upstream_timeout after it), [WithWebSocket] (no route
// switches protocols by default) and [WithTrust]: a trusted hop's
// X-Forwarded-For chain is kept and extended; an untrusted one is replaced.
func NewProxy(target func(*http.Request) (*url.URL, error), opts ...ProxyOption) (*Proxy, error) {
	return newProxy("NewProxy", target, opts)
}

func newProxy(ctor string, target func(*http.Request) (*url.URL, error), opts []ProxyOption) (*Proxy, error) {
	if target == nil {
		return nil, errors.New("edge: proxy: nil target function")
	}
	c, err := newConfig(ctor, opts, ProxyOption.proxyOption)
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, trust: c.trust, ws: c.websocket}
	// An http.Transport enforces the header timeout itself, at no cost per
	// request; any other RoundTripper (a Binding, the caller's) gets a timer
	// on each request's context.
	var transport http.RoundTripper
	switch {
	case c.transport == nil:
		t := NewTransport()
		t.ResponseHeaderTimeout = c.headerTimeout
		transport = t
	case boundsResponseHeader(c.transport, c.headerTimeout):
		transport = c.transport
	default:
		transport = headerTimeout{next: c.transport, d: c.headerTimeout}
	}
	logger := c.log()
	p.rp = httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      transport,
		FlushInterval:  c.flush,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler:   proxyError,
		ModifyResponse: dropUpstreamRequestID,
	}
	return p, nil
}

// ProxyTo returns a proxy to one fixed upstream, which must be an absolute
// http or https URL. Its options are those of [NewProxy].
func ProxyTo(upstream string, opts ...ProxyOption) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("edge: proxy upstream: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("edge: proxy upstream %q: want an absolute http(s) URL", u.Redacted())
	}
	p, err := newProxy("ProxyTo", func(*http.Request) (*url.URL, error) { return u, nil }, opts)
	if err != nil {
		return nil, err
	}
	p.fixed = u
	return p, nil
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	upgrade, rewrite := scanHop(r.Header)
	if (upgrade || r.Method == http.MethodConnect) && !(p.ws != nil && webSocketHandshake(r) && p.ws(r)) {
		WriteProblem(w, r, ErrUpgradeRefused)
		return
	}
	if rewrite { // rare: the common request costs no copy
		h := onlyHopByHop(r.Header)
		r = r.WithContext(r.Context()) // a shallow copy: the caller's header stays as it was
		r.Header = h
	}
	if p.fixed != nil {
		p.rp.ServeHTTP(w, r) // rewrite reads p.fixed: no request copy
		return
	}
	u, err := p.target(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if u == nil {
		WriteProblem(w, r, ErrUpstreamUnavailable.WithCause(errors.New("edge: proxy: target returned no URL")))
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(proxyTargetKey.With(r.Context(), u)))
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	u := p.fixed
	if u == nil {
		u = proxyTargetKey.Value(pr.In.Context())
	}
	pr.SetURL(u)
	if xff := pr.In.Header["X-Forwarded-For"]; xff != nil && p.trust(pr.In) {
		pr.Out.Header["X-Forwarded-For"] = xff
	}
	setXForwarded(pr)
	if id := RequestIDFromContext(pr.In.Context()); id != "" {
		// RequestID put the ID in the canonical header already, and the
		// clone has its own copy of it: kept, it costs no allocation.
		v := pr.Out.Header[RequestIDHeader]
		DeleteHeader(pr.Out.Header, RequestIDHeader)
		if len(v) == 1 && v[0] == id {
			pr.Out.Header[RequestIDHeader] = v
		} else {
			pr.Out.Header[RequestIDHeader] = []string{id} // canonical already
		}
	}
}

// setXForwarded does what pr.SetXForwarded does, and sets the empty
// User-Agent that ReverseProxy would set after Rewrite on a request that has
// none (so that the transport sends none), with the four values in one
// allocation instead of one each.
func setXForwarded(pr *httputil.ProxyRequest) {
	h := pr.Out.Header
	v := new([4]string)
	if clientIP, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		v[0] = clientIP
		h["X-Forwarded-For"] = v[0:1:1]
	} else {
		delete(h, "X-Forwarded-For")
	}
	v[1] = pr.In.Host
	h["X-Forwarded-Host"] = v[1:2:2]
	v[2] = "http"
	if pr.In.TLS != nil {
		v[2] = "https"
	}
	h["X-Forwarded-Proto"] = v[2:3:3]
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = v[3:4:4] // ""
	}
}

// dropUpstreamRequestID deletes every spelling of X-Request-Id from the
// upstream's response when the request has an ID of its own: [RequestID]
// has set it on the response already, and ReverseProxy would add the
// upstream's, so a response that crossed router, gateway and cell would
// carry it three times. With one ID per request across trusted hops the
// values are equal anyway; without, the client is told the ID this hop
// logged.
func dropUpstreamRequestID(resp *http.Response) error {
	if resp.Request != nil && RequestIDFromContext(resp.Request.Context()) != "" {
		DeleteHeader(resp.Header, RequestIDHeader)
	}
	return nil
}

// proxyError answers an upstream failure; the cause (which names the
// upstream) goes to the log line only.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var ne net.Error
	switch {
	case bodyTimedOut(r), errors.Is(err, ErrBodyTimeout):
		// The client's body stalled under BodyIdle, which also cancels
		// the request: the client's fault, not the upstream's.
		WriteProblem(w, r, ErrBodyTimeout.WithCause(err))
	case errors.Is(r.Context().Err(), context.Canceled):
		WriteProblem(w, r, ErrClientClosed.WithCause(err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// Also a deadline on the request's context, set by a route's
		// timeout: the upstream was too slow, the client is still there.
		WriteProblem(w, r, ErrUpstreamTimeout.WithCause(err))
	default:
		WriteProblem(w, r, ErrUpstreamUnavailable.WithCause(err))
	}
}

// NewTransport returns the default outbound transport of cellgate: bounded
// dial, TLS handshake and response-header waits, HTTP/2 when offered, and
// enough idle connections per host that a busy edge reuses them rather than
// churning. It has no overall timeout, so a long upload is never cut short;
// per-request deadlines come from the request's context.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, // never take an upstream proxy from the environment implicitly
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// bufferSize is the size of every pooled copy buffer.
const bufferSize = 32 << 10

// buffers holds arrays, not slices: a *[bufferSize]byte goes into an
// interface without an allocation, and Put gets it back from the slice by
// a conversion, where a pool of *[]byte would allocate a slice header on
// every Put.
var buffers = sync.Pool{New: func() any { return new([bufferSize]byte) }}

// bufferPool is an httputil.BufferPool over [buffers].
type bufferPool struct{}

func (bufferPool) Get() []byte { return buffers.Get().(*[bufferSize]byte)[:] }
func (bufferPool) Put(b []byte) {
	if cap(b) == bufferSize {
		buffers.Put((*[bufferSize]byte)(b[:bufferSize]))
	}
}
