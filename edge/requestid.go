package edge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
)

// RequestIDHeader carries the request ID in both directions and on every
// outbound request cellgate makes.
const RequestIDHeader = "X-Request-Id"

var requestIDKey = NewKey[string]("edge.request_id")

// RequestIDFromContext returns the request ID in ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	return requestIDKey.Value(ctx)
}

// RequestID assigns every request an ID, exposed by [RequestIDFromContext] and
// echoed in the X-Request-Id response header.
//
// Every spelling of the header counts (X_Request_Id, x-request-id; see
// [SameHeaderName]), because CGI, WSGI and Rack apps behind the edge fold
// them all into HTTP_X_REQUEST_ID. An inbound ID is kept only when the hop
// is trusted and exactly one spelling with exactly one value is present,
// and the value is 1–64 characters of A-Z a-z 0-9 . _ : -; otherwise a new
// one is generated. Either way every spelling is deleted and the request
// carries the settled ID in the canonical header only.
//
// Requests that arrived through a [Binding] are trusted, so one ID crosses
// the in-process hops of a topology; [WithTrust] adds more trusted hops
// (a gateway reached over the network, say).
//
// A nil option is an error.
func RequestID(opts ...RequestIDOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("RequestID", opts, RequestIDOption.requestIDOption)
	if err != nil {
		return nil, err
	}
	trust := TrustAny(TrustBinding, c.trust)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := inboundRequestID(r.Header)
			if id == "" || !trust(r) {
				id = NewRequestID()
			}
			// One allocation for the scope, both header values and what
			// an AccessLog behind needs (see requestState).
			st := &requestState{ids: [2]string{id, id}}
			DeleteHeader(r.Header, RequestIDHeader)
			r.Header[RequestIDHeader] = st.ids[0:1:1] // canonical already
			DeleteHeader(w.Header(), RequestIDHeader)
			w.Header()[RequestIDHeader] = st.ids[1:2:2]
			next.ServeHTTP(w, requestIDKey.attachIn(r, id, st))
		})
	}, nil
}

// inboundRequestID returns the one valid ID that h names, or "" when it
// names none, an invalid one, or several (in one spelling or in more).
func inboundRequestID(h http.Header) string {
	values, spellings := HeaderValues(h, RequestIDHeader)
	if spellings != 1 || len(values) != 1 || !ValidRequestID(values[0]) {
		return ""
	}
	return values[0]
}

// ContextWithRequestID returns a copy of ctx carrying id, for tests and for work
// started outside a request.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return requestIDKey.With(ctx, id)
}

// NewRequestID returns 128 random bits as 22 URL-safe base64 characters.
func NewRequestID() string {
	b := idBatches.Get().(*idBatch)
	if b.next == len(b.s) {
		b.fill()
	}
	id := b.s[b.next : b.next+idLen]
	b.next += idLen
	idBatches.Put(b)
	return id
}

// idLen is the length of a generated request ID: 16 bytes in unpadded
// base64.
const idLen = 22

// idsPerBatch is how many request IDs one read of the random source makes.
const idsPerBatch = 64

// idBatch is a run of generated request IDs in one string, handed out as
// substrings: one read of the random source and one allocation for
// idsPerBatch IDs instead of one of each per ID.
type idBatch struct {
	s    string
	next int // where the next ID starts in s
}

var idBatches = sync.Pool{New: func() any { return new(idBatch) }}

// fill makes a new run of IDs.
func (b *idBatch) fill() {
	var raw [16 * idsPerBatch]byte
	rand.Read(raw[:])
	var enc [idLen * idsPerBatch]byte
	for i := range idsPerBatch {
		base64.RawURLEncoding.Encode(enc[i*idLen:(i+1)*idLen], raw[i*16:(i+1)*16])
	}
	b.s, b.next = string(enc[:]), 0
}

// ValidRequestID reports whether id is 1–64 characters of
// A-Z a-z 0-9 . _ : -.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// Outbound wraps base (http.DefaultTransport when nil) so every request it
// sends carries the request ID of its context in X-Request-Id, unless the
// request already names one. The caller's request is never modified.
func Outbound(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return outbound{base}
}

type outbound struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t outbound) RoundTrip(req *http.Request) (*http.Response, error) {
	if id := RequestIDFromContext(req.Context()); id != "" && req.Header.Get(RequestIDHeader) == "" {
		req = req.Clone(req.Context())
		req.Header.Set(RequestIDHeader, id)
	}
	return t.base.RoundTrip(req)
}
