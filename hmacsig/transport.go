package hmacsig

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTransportLifetime is the lifetime of the URLs a [Transport] signs
// when its Lifetime is zero: long enough for clock skew and a retry, short
// enough that a logged or replayed URL is soon useless.
const DefaultTransportLifetime = time.Minute

// Transport is an http.RoundTripper that signs every request it sends, for
// service-to-service calls (a zone's file upload service, the session
// storage API). The caller's request is never modified: the signed URL goes
// on a shallow copy. Use one Signer, with its own key, per purpose.
//
// A redirect is signed again when it stays on the same host and refused when
// it leads elsewhere: the host is not part of a signature.
//
// A request signed here verifies on the far side whether it travels over the
// network or through edge.Binding: both send req.URL.RequestURI() as the
// request-target.
type Transport struct {
	// Signer signs the requests; required.
	Signer *Signer
	// Lifetime of each signed URL; DefaultTransportLifetime when zero.
	Lifetime time.Duration
	// Base sends the signed request; http.DefaultTransport when nil.
	Base http.RoundTripper
	// ContentDigest makes the transport bind every request's body: a
	// request without a Content-Digest header gets one (the digest of the
	// empty body when it has none), computed by reading a second copy of
	// the body through req.GetBody, which http.NewRequest sets for
	// bytes.Reader, bytes.Buffer and strings.Reader bodies; the body itself
	// streams untouched. A body that cannot be read twice is refused with an
	// error rather than buffered: set the header yourself
	// (hmacsig.ContentDigest). Off by default, because a verifier that
	// predates content digests refuses such URLs (signature_mismatch).
	//
	// With or without it, a Content-Digest header the caller set is signed
	// (SPEC.md, "Content digest"): the caller is trusted to have computed it
	// over the body it sends. Two Content-Digest field lines are refused.
	ContentDigest bool
}

// RoundTrip signs req's URL for its method (and its Content-Digest, see
// ContentDigest) and sends a copy of req with the signed URL through Base.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		if req.Body != nil { // a RoundTripper closes the body, even on error
			req.Body.Close()
		}
		return nil, err
	}
	if t.Signer == nil {
		return fail(errors.New("hmacsig: transport: no Signer"))
	}
	// An http.Client following a redirect calls RoundTrip again. Signing a
	// redirect to another host would hand that host a URL valid for this
	// service, since the host is not signed.
	if prev := req.Response; prev != nil && prev.Request != nil && prev.Request.URL != nil &&
		!strings.EqualFold(prev.Request.URL.Host, req.URL.Host) {
		return fail(errors.New("hmacsig: transport: refusing to sign a redirect to another host"))
	}
	lifetime := t.Lifetime
	if lifetime == 0 {
		lifetime = DefaultTransportLifetime
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	digest, bound, set := "", false, false
	switch vals := req.Header.Values(ContentDigestHeader); {
	case len(vals) > 1:
		return fail(errors.New("hmacsig: transport: more than one Content-Digest field line"))
	case len(vals) == 1:
		digest, bound = vals[0], true
	case t.ContentDigest:
		d, err := bodyDigest(req)
		if err != nil {
			return fail(err)
		}
		digest, bound, set = d, true, true
	}
	var u *url.URL
	var err error
	if bound {
		u, err = t.Signer.SignContent(method, req.URL, digest, lifetime)
	} else {
		u, err = t.Signer.Sign(method, req.URL, lifetime)
	}
	if err != nil {
		return fail(err)
	}
	out := new(http.Request)
	*out = *req
	out.URL = u
	if set {
		out.Header = req.Header.Clone()
		if out.Header == nil {
			out.Header = http.Header{}
		}
		out.Header.Set(ContentDigestHeader, digest)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}
