package hmacsig

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"net/http"
)

// ContentDigestHeader is the RFC 9530 field that carries the digest of a
// request's body. A signature covers it when the URL has the content_digest
// parameter (SPEC.md, "Content digest").
const ContentDigestHeader = "Content-Digest"

// The one algorithm of the spec, as the content_digest parameter names it
// and as the Content-Digest member key.
const (
	digestAlg    = "sha-256"
	digestPrefix = digestAlg + "=:"
	// digestLen is the length of the one accepted field value:
	// "sha-256=:" + 44 base64 characters + ":".
	digestLen = len(digestPrefix) + 44 + 1
)

var errDigestHeader = errors.New("Content-Digest is not exactly one sha-256=:BASE64: member")

// ContentDigest returns the Content-Digest field value of body in the one
// form this package signs and accepts: "sha-256=:" then the standard
// base64 (padded) of the SHA-256 of body, then ":" (RFC 9530). A client that
// holds its body in memory sets it on the request; [Transport] then signs it.
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return formatDigest(&sum)
}

func formatDigest(sum *[32]byte) string {
	var b [digestLen]byte
	copy(b[:], digestPrefix)
	base64.StdEncoding.Encode(b[len(digestPrefix):], sum[:])
	b[digestLen-1] = ':'
	return string(b[:])
}

// parseContentDigest decodes v into dst when v is exactly one sha-256
// member in its canonical form: no other algorithm, no second member, no
// parameters, no white space, base64 with the standard alphabet, padding and
// zero trailing bits. Anything else is refused rather than read leniently:
// two readings of one field must never disagree on what was signed.
func parseContentDigest(dst *[32]byte, v string) bool {
	if len(v) != digestLen || v[:len(digestPrefix)] != digestPrefix || v[digestLen-1] != ':' {
		return false
	}
	// 44 characters decode to up to 33 bytes (without padding): decode into
	// room for them, as Decode writes past a shorter destination's end.
	var buf [33]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(v[len(digestPrefix):digestLen-1]))
	if err != nil || n != len(dst) {
		return false
	}
	copy(dst[:], buf[:n])
	return true
}

// requestDigest returns the Content-Digest of a request whose URL covers
// one: exactly one field line holding exactly one sha-256 member.
func requestDigest(dst *[32]byte, h http.Header) (string, error) {
	vals := h.Values(ContentDigestHeader)
	switch {
	case len(vals) == 0:
		return "", ErrContentDigestMissing
	case len(vals) > 1 || !parseContentDigest(dst, vals[0]):
		return "", ErrContentDigestMalformed.WithCause(errDigestHeader)
	}
	return vals[0], nil
}

// digestBody is the body of a request whose signature covers a
// Content-Digest: it hashes what is read and, at the end of the body,
// returns ErrContentDigestMismatch instead of io.EOF when the body is not
// the one signed. The verdict is sticky: every later Read returns it again.
//
// It cannot un-read anything. A handler that acts on bytes before it has
// read to io.EOF (streams them elsewhere, or stores a JSON value the decoder
// completed before the end) has acted on a body that may not be the signed
// one; handlers must read to the end and check the error before acting.
type digestBody struct {
	rc   io.ReadCloser
	h    hash.Hash
	want [32]byte
	err  error // io.EOF or ErrContentDigestMismatch once the end was seen
}

func newDigestBody(rc io.ReadCloser, want *[32]byte) *digestBody {
	if rc == nil {
		rc = http.NoBody
	}
	return &digestBody{rc: rc, h: sha256.New(), want: *want}
}

// Read implements io.Reader.
func (d *digestBody) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.rc.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF {
		var got [32]byte
		d.h.Sum(got[:0])
		d.err = io.EOF
		if subtle.ConstantTimeCompare(got[:], d.want[:]) != 1 {
			d.err = ErrContentDigestMismatch
		}
		err = d.err
	}
	return n, err
}

// Close implements io.Closer.
func (d *digestBody) Close() error { return d.rc.Close() }

// bodyDigest computes the Content-Digest of req's body for [Transport],
// reading a second copy of it through GetBody so that the body itself
// streams untouched and nothing is buffered. A request without a body gets
// the digest of the empty body.
func bodyDigest(req *http.Request) (string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return ContentDigest(nil), nil
	}
	if req.GetBody == nil {
		return "", errors.New("hmacsig: transport: cannot compute the Content-Digest of a body that cannot be read twice (no GetBody); set the Content-Digest header")
	}
	rc, err := req.GetBody()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return formatDigest(&sum), nil
}
