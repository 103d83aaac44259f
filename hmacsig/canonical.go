package hmacsig

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// header is the first line of the string to sign; a version 2 changes it.
const header = "URI-INTEGRITY-V1\n"

// The reserved query parameters, identified by their decoded names.
// content_digest (SPEC.md, "Content digest") names the Content-Digest
// algorithm the signature covers; its only value is digestAlg.
const (
	paramSig           = "sig"
	paramExpiresAt     = "expires_at"
	paramKid           = "kid"
	paramContentDigest = "content_digest"
)

// Syntax rules a target can break. They say which rule, never which bytes:
// they end up in logs, and the query may hold a signature.
var (
	errMethod      = errors.New("method is not 1-20 ASCII letters")
	errOriginForm  = errors.New("request-target is not in origin form")
	errChar        = errors.New("character not allowed in a signed URL")
	errEscape      = errors.New("bad percent-escape")
	errUTF8        = errors.New("decoded text is not UTF-8")
	errDotSegment  = errors.New("path segment is a dot segment")
	errEmptySeg    = errors.New("empty path segment")
	errRepeated    = errors.New("query parameter name repeated")
	errSigForm     = errors.New("sig is not 64 hexadecimal digits")
	errExpiresForm = errors.New("expires_at is not 1-10 digits without a leading zero")
	errKidForm     = errors.New("kid is not 1-64 characters of A-Z, a-z, 0-9, -, _ and . (dot)")
	errDigestParam = errors.New("content_digest is not sha-256")
)

// Byte classes of the spec. unreserved bytes stay as they are in the
// canonical form; allowed bytes may appear raw in a signed URL ('%' is
// checked on its own).
var unreserved, allowed = func() (u, a [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		u[c], u[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		u[c] = true
	}
	for _, c := range "-._~" {
		u[c] = true
	}
	a = u
	for _, c := range "!$&'()*+,=:@/" {
		a[c] = true
	}
	return u, a
}()

const upperHex = "0123456789ABCDEF"

// params are the raw values (substrings of the query, before decoding) of
// the reserved parameters, as the spec checks their form on the raw value.
type params struct {
	sig, expiresAt, kid, contentDigest             string
	hasSig, hasExpiresAt, hasKid, hasContentDigest bool
}

// pair locates one encoded query parameter in scratch.enc:
// enc[name:value] is its name and enc[value:end] its value.
type pair struct{ name, value, end int }

// scratch holds the buffers of one canonicalisation. It is pooled, so a
// verification allocates nothing once the pool is warm.
type scratch struct {
	sts   []byte // the string to sign
	enc   []byte // encoded query names and values, before sorting
	dec   []byte // the segment, name or value being decoded
	pairs []pair
	sig   [32]byte // the signature from the URL
	sum   [32]byte // the MAC computed here
	dig   [32]byte // the SHA-256 of the Content-Digest header
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{sts: make([]byte, 0, 256), enc: make([]byte, 0, 128), dec: make([]byte, 0, 64), pairs: make([]pair, 0, 8)}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// putScratch returns s to the pool unless a huge target made it grow: the
// pool should not pin megabytes.
func putScratch(s *scratch) {
	if cap(s.sts) <= 64<<10 && cap(s.enc) <= 64<<10 && cap(s.pairs) <= 1<<10 {
		scratchPool.Put(s)
	}
}

// canonicalise checks method, path and query against the syntax of the spec
// and writes the four lines of the string to sign into s.sts (the fifth, the
// Content-Digest of a URL with content_digest, is appended by the caller once
// it has the header: see appendDigestLine). The sig parameter is left out of
// it and returned, with expires_at and kid, as raw values; their form is
// checked by the caller, after it has checked that they are present.
func (s *scratch) canonicalise(method, path, query string) (params, error) {
	var p params
	s.sts = append(s.sts[:0], header...)
	if len(method) == 0 || len(method) > 20 {
		return p, errMethod
	}
	for i := 0; i < len(method); i++ {
		c := method[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			return p, errMethod
		}
		s.sts = append(s.sts, c)
	}
	s.sts = append(s.sts, '\n')

	if err := s.path(path); err != nil {
		return p, err
	}
	s.sts = append(s.sts, '\n')

	p, err := s.query(query)
	if err != nil {
		return p, err
	}
	for i, q := range s.pairs {
		if i > 0 {
			s.sts = append(s.sts, '&')
		}
		s.sts = append(s.sts, s.enc[q.name:q.value]...)
		s.sts = append(s.sts, '=')
		s.sts = append(s.sts, s.enc[q.value:q.end]...)
	}
	return p, nil
}

// path appends the canonical path: every segment decoded ('+' stays a plus)
// and re-encoded, so an encoded slash stays distinct from a separator.
func (s *scratch) path(path string) error {
	if path == "" || path[0] != '/' {
		return errOriginForm
	}
	rest := path[1:]
	for {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "" && more {
			return errEmptySeg
		}
		s.sts = append(s.sts, '/')
		start := len(s.sts)
		var err error
		if s.sts, err = s.appendCanonical(s.sts, seg, false); err != nil {
			return err
		}
		// '.' is unreserved: a segment decodes to "." or ".." exactly when
		// its canonical form is "." or "..".
		if c := s.sts[start:]; len(c) <= 2 && (string(c) == "." || string(c) == "..") {
			return errDotSegment
		}
		if !more {
			return nil
		}
		rest = after
	}
}

// query encodes every parameter but sig into s.enc and sorts them by encoded
// name into s.pairs. A repeated name is malformed; as encoding is one to
// one, repeated decoded names are equal neighbours once sorted.
func (s *scratch) query(query string) (params, error) {
	var p params
	s.enc, s.pairs = s.enc[:0], s.pairs[:0]
	for query != "" {
		var piece string
		piece, query, _ = strings.Cut(query, "&")
		if piece == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(piece, "=")
		name := len(s.enc)
		var err error
		if s.enc, err = s.appendCanonical(s.enc, rawName, true); err != nil {
			return p, err
		}
		value := len(s.enc)
		if s.enc, err = s.appendCanonical(s.enc, rawValue, true); err != nil {
			return p, err
		}
		// The reserved names are unreserved text: a name decodes to one of
		// them exactly when its canonical form is that name.
		switch string(s.enc[name:value]) {
		case paramSig:
			if p.hasSig {
				return p, errRepeated
			}
			p.sig, p.hasSig = rawValue, true
			s.enc = s.enc[:name] // signed is everything but sig
			continue
		case paramExpiresAt:
			p.expiresAt, p.hasExpiresAt = rawValue, true
		case paramKid:
			p.kid, p.hasKid = rawValue, true
		case paramContentDigest:
			p.contentDigest, p.hasContentDigest = rawValue, true
		}
		s.pairs = append(s.pairs, pair{name, value, len(s.enc)})
	}
	enc := s.enc
	slices.SortFunc(s.pairs, func(a, b pair) int {
		return bytes.Compare(enc[a.name:a.value], enc[b.name:b.value])
	})
	for i := 1; i < len(s.pairs); i++ {
		a, b := s.pairs[i-1], s.pairs[i]
		if bytes.Equal(enc[a.name:a.value], enc[b.name:b.value]) {
			return p, errRepeated
		}
	}
	return p, nil
}

// appendCanonical appends the canonical form of raw, a path segment or a
// query name or value, to dst. Text that is all unreserved bytes, the common
// case, is its own canonical form.
func (s *scratch) appendCanonical(dst []byte, raw string, plusIsSpace bool) ([]byte, error) {
	i := 0
	for i < len(raw) && unreserved[raw[i]] {
		i++
	}
	if i == len(raw) {
		return append(dst, raw...), nil
	}
	if err := s.decode(raw, plusIsSpace); err != nil {
		return dst, err
	}
	return appendEscaped(dst, s.dec), nil
}

// decode percent-decodes raw into s.dec, reading '+' as a space when
// plusIsSpace (query) and as a plus otherwise (path). It enforces the
// character rules and that the result is UTF-8.
func (s *scratch) decode(raw string, plusIsSpace bool) error {
	s.dec = s.dec[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '%':
			if i+2 >= len(raw) {
				return errEscape
			}
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if !ok1 || !ok2 {
				return errEscape
			}
			c = hi<<4 | lo
			i += 2
		case !allowed[c]:
			return errChar
		case c == '+' && plusIsSpace:
			c = ' '
		}
		s.dec = append(s.dec, c)
	}
	if !utf8.Valid(s.dec) {
		return errUTF8
	}
	return nil
}

// appendEscaped appends the canonical encoding of b: unreserved bytes as they
// are, every other byte as %XX with upper-case hex digits.
func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		if unreserved[c] {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeSig decodes the 64 hex digits of a sig value (either case).
func decodeSig(dst *[32]byte, raw string) bool {
	if len(raw) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(raw[2*i])
		lo, ok2 := unhex(raw[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// parseExpiresAt reads 1–10 decimal digits without a leading zero.
func parseExpiresAt(raw string) (int64, bool) {
	if len(raw) == 0 || len(raw) > 10 || raw[0] == '0' {
		return 0, false
	}
	var n int64
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validKid reports whether kid is 1–64 characters of A-Z a-z 0-9 - _ .
func validKid(kid string) bool {
	if len(kid) == 0 || len(kid) > 64 {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if c := kid[i]; !unreserved[c] || c == '~' {
			return false
		}
	}
	return true
}

// appendDigestLine appends the fifth line of the string to sign of a URL
// with content_digest: the Content-Digest field value, already checked to
// be in the one form parseContentDigest accepts.
func (s *scratch) appendDigestLine(value string) {
	s.sts = append(s.sts, '\n')
	s.sts = append(s.sts, value...)
}
