package hmacsig

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxExpiresAt is the largest expires_at of the spec (ten digits).
const maxExpiresAt = 9_999_999_999

// Signer signs URLs with one key, for one purpose (see SPEC.md, "Keys").
// It is safe for concurrent use.
type Signer struct {
	key *macKey
	kid string
	now func() time.Time
}

// NewSigner returns a Signer for key, which must have at least
// [MinKeySize] bytes. Its options are [WithKeyID] and [WithClock].
func NewSigner(key []byte, opts ...SignerOption) (*Signer, error) {
	if err := checkKeySize("signing key", key); err != nil {
		return nil, err
	}
	c, err := newConfig("NewSigner", opts, SignerOption.signerOption)
	if err != nil {
		return nil, err
	}
	return &Signer{key: newMACKey(c.kid, key), kid: c.kid, now: c.now}, nil
}

// Sign returns a copy of u signed for method until now + lifetime. The
// existing query is kept as written; expires_at, then kid (with WithKeyID),
// then sig are appended to it. u is not modified.
//
// What is signed is u.EscapedPath() (an empty path is "/") and u.RawQuery,
// exactly as they will travel in the request line, so they must already obey
// the spec's syntax: Sign refuses, rather than repairs, a path or query with
// characters such as a raw ';' or space, a "." or ".." segment, an empty
// segment, a repeated parameter, or a sig, expires_at, kid or
// content_digest parameter of its own. url.PathEscape and url.Values.Encode
// produce valid text.
func (s *Signer) Sign(method string, u *url.URL, lifetime time.Duration) (*url.URL, error) {
	return s.signURL(method, u, "", lifetime)
}

// SignContent is [Signer.Sign] for a request that will carry the
// Content-Digest header contentDigest (as [ContentDigest] writes it): it
// appends content_digest=sha-256 before sig, and the signature covers the
// header value as well (SPEC.md, "Content digest"). The URL then verifies
// only for a request with exactly that header, and [Require] checks the body
// against it, so a replayed URL cannot carry another body. A contentDigest
// that is not one sha-256 member in canonical form is an error.
func (s *Signer) SignContent(method string, u *url.URL, contentDigest string, lifetime time.Duration) (*url.URL, error) {
	var sum [32]byte
	if !parseContentDigest(&sum, contentDigest) {
		return nil, fmt.Errorf("hmacsig: sign: %w", errDigestHeader)
	}
	return s.signURL(method, u, contentDigest, lifetime)
}

// signURL signs u, binding the Content-Digest digest when it is not "".
func (s *Signer) signURL(method string, u *url.URL, digest string, lifetime time.Duration) (*url.URL, error) {
	if u == nil {
		return nil, errors.New("hmacsig: sign: nil URL")
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("hmacsig: sign: %w", errOriginForm)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	q, err := s.signContent(method, path, u.RawQuery, digest, lifetime)
	if err != nil {
		return nil, err
	}
	out := *u
	out.RawQuery, out.ForceQuery = q, false
	return &out, nil
}

// SignURL is [Signer.Sign] for a URL in a string: an absolute URL or an
// origin-form target such as "/files/a?x=1".
func (s *Signer) SignURL(method, rawURL string, lifetime time.Duration) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("hmacsig: sign: %w", err)
	}
	signed, err := s.Sign(method, u, lifetime)
	if err != nil {
		return "", err
	}
	return signed.String(), nil
}

// sign returns query with the signature parameters appended.
func (s *Signer) sign(method, path, query string, lifetime time.Duration) (string, error) {
	return s.signContent(method, path, query, "", lifetime)
}

// signContent returns query with the signature parameters appended; when
// digest is not "" (a Content-Digest value, already checked by the
// caller), content_digest is among them and the signature covers digest.
func (s *Signer) signContent(method, path, query, digest string, lifetime time.Duration) (string, error) {
	if lifetime <= 0 {
		return "", errors.New("hmacsig: sign: lifetime must be positive")
	}
	exp := s.now().Add(lifetime).Unix()
	if exp < 1 || exp > maxExpiresAt {
		return "", fmt.Errorf("hmacsig: sign: expiry %d out of range", exp)
	}
	sep := "&"
	if query == "" || strings.HasSuffix(query, "&") {
		sep = ""
	}
	// One buffer holds the signed query and then the signature: the string
	// taken before the signature is appended stays valid, as the builder
	// never reallocates within the capacity grown here.
	var b strings.Builder
	n := len(query) + len(sep) + len("expires_at=") + 10 + len("&kid=") + len(s.kid) + len("&sig=") + 64
	if digest != "" {
		n += len("&" + paramContentDigest + "=" + digestAlg)
	}
	b.Grow(n)
	b.WriteString(query)
	b.WriteString(sep)
	b.WriteString(paramExpiresAt + "=")
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], exp, 10))
	if s.kid != "" {
		b.WriteString("&" + paramKid + "=")
		b.WriteString(s.kid)
	}
	if digest != "" {
		b.WriteString("&" + paramContentDigest + "=" + digestAlg)
	}
	signed := b.String()

	sc := getScratch()
	defer putScratch(sc)
	p, err := sc.canonicalise(method, path, signed)
	switch {
	case err != nil:
		return "", fmt.Errorf("hmacsig: sign: %w", err)
	case p.hasSig:
		return "", errors.New("hmacsig: sign: URL already has a sig parameter")
	case p.hasKid && s.kid == "":
		return "", errors.New("hmacsig: sign: URL has a kid parameter but the signer has no key id")
	case p.hasContentDigest && digest == "":
		return "", errors.New("hmacsig: sign: URL has a content_digest parameter but no Content-Digest is signed")
	}
	if digest != "" {
		sc.appendDigestLine(digest)
	}
	s.key.sum(&sc.sum, sc.sts)
	var sig [64]byte
	hex.Encode(sig[:], sc.sum[:])
	b.WriteString("&" + paramSig + "=")
	b.Write(sig[:])
	return b.String(), nil
}
