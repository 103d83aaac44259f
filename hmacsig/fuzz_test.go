package hmacsig

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refCanonical is a second, deliberately naive reading of the spec's syntax
// and canonical form (regular expressions, net/url, maps, sort), to fuzz the
// fast one against.
var (
	refRawText = regexp.MustCompile(`^(?:[A-Za-z0-9\-._~!$&'()*+,=:@/]|%[0-9A-Fa-f]{2})*$`)
	refMethod  = regexp.MustCompile(`^[A-Za-z]{1,20}$`)
)

func refCanonical(method, path, query string) (string, bool) {
	rawText := refRawText
	if !refMethod.MatchString(method) ||
		!strings.HasPrefix(path, "/") || !rawText.MatchString(path) || !rawText.MatchString(query) {
		return "", false
	}
	enc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if c := s[i]; strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	segs := strings.Split(path[1:], "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil || !utf8.ValidString(d) || d == "." || d == ".." || seg == "" && i < len(segs)-1 {
			return "", false
		}
		segs[i] = enc(d)
	}
	seen := map[string]bool{}
	var pairs [][2]string
	for _, piece := range strings.Split(query, "&") {
		if piece == "" {
			continue
		}
		rn, rv, _ := strings.Cut(piece, "=")
		n, err1 := url.QueryUnescape(rn)
		v, err2 := url.QueryUnescape(rv)
		if err1 != nil || err2 != nil || !utf8.ValidString(n) || !utf8.ValidString(v) || seen[n] {
			return "", false
		}
		seen[n] = true
		if n != "sig" {
			pairs = append(pairs, [2]string{enc(n), enc(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	var q []string
	for _, p := range pairs {
		q = append(q, p[0]+"="+p[1])
	}
	return "URI-INTEGRITY-V1\n" + strings.ToUpper(method) + "\n/" + strings.Join(segs, "/") + "\n" + strings.Join(q, "&"), true
}

func addVectorSeeds(f *testing.F, add func(method, path, query string)) {
	v := loadVectors(f)
	for _, c := range v.Vectors {
		add(c.Method, c.Path, c.Query)
	}
	for _, c := range append(v.ValidTargets, v.Invalid...) {
		path, query, _ := strings.Cut(c.Target, "?")
		add(c.Method, path, query)
	}
}

// FuzzCanonical: the fast canonicalisation never panics, agrees with the
// naive one on what is malformed and on the string to sign, and is
// idempotent (the canonical path and query are their own canonical form).
func FuzzCanonical(f *testing.F) {
	addVectorSeeds(f, func(m, p, q string) { f.Add(m, p, q) })
	f.Fuzz(func(t *testing.T, method, path, query string) {
		s := getScratch()
		defer putScratch(s)
		_, err := s.canonicalise(method, path, query)
		want, ok := refCanonical(method, path, query)
		if (err == nil) != ok {
			t.Fatalf("canonicalise(%q, %q, %q): err %v, reference ok %v", method, path, query, err, ok)
		}
		if !ok {
			return
		}
		got := string(s.sts)
		if got != want {
			t.Fatalf("canonicalise(%q, %q, %q)\n got %q\nwant %q", method, path, query, got, want)
		}
		lines := strings.Split(got, "\n")
		if _, err := s.canonicalise(lines[1], lines[2], lines[3]); err != nil || string(s.sts) != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, s.sts, err)
		}
	})
}

// FuzzVerify: Verify never panics; Verify(Sign(x)) succeeds for every x
// Sign accepts; and after changing any one byte of the method or the signed
// target, Verify succeeds exactly when the change kept the signed content
// (same string to sign, same signature bytes: a case change in an escape,
// the method or the hex, "a=" written "a&"...), and fails otherwise.
func FuzzVerify(f *testing.F) {
	addVectorSeeds(f, func(m, p, q string) { f.Add(m, p, q, uint16(len(p)), byte(1), false) })
	f.Add("PUT", "/files/a+b/%2F", "name=a+b&tag=c%2Bd", uint16(9), byte(0x20), true)
	f.Add("get", "/", "", uint16(0), byte(0x20), false)

	signer, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	kidSigner, _ := NewSigner(testKey, WithClock(fixedClock(testNow)), WithKeyID("k1"))
	v, _ := NewVerifier(Keys{Current: testKey, ByID: map[string][]byte{"k1": testKey}}, WithClock(fixedClock(testNow)))

	f.Fuzz(func(t *testing.T, method, path, query string, pos uint16, delta byte, kid bool) {
		_ = v.Verify(request(method, path+"?"+query))
		_ = v.Verify(request(method, path+query))

		s := signer
		if kid {
			s = kidSigner
		}
		q, err := s.sign(method, path, query, time.Hour)
		if err != nil {
			return
		}
		target := path + "?" + q
		if err := v.Verify(request(method, target)); err != nil {
			t.Fatalf("Verify(Sign(%s %s)) = %v", method, target, err)
		}

		if delta == 0 {
			delta = 1
		}
		m2, t2 := []byte(method), []byte(target)
		if i := int(pos) % (len(m2) + len(t2)); i < len(m2) {
			m2[i] ^= delta
		} else {
			t2[i-len(m2)] ^= delta
		}
		err = v.Verify(request(string(m2), string(t2)))
		if same := sameSignedContent(method, target, string(m2), string(t2)); (err == nil) != same {
			t.Fatalf("%s %s changed to %q %q: Verify = %v, same signed content %v", method, target, m2, t2, err, same)
		}
	})
}

// sameSignedContent reports whether two well-formed requests carry the same
// string to sign and the same signature.
func sameSignedContent(m1, t1, m2, t2 string) bool {
	canon := func(m, t string) (string, string, bool) {
		s := getScratch()
		defer putScratch(s)
		p, q, _ := strings.Cut(t, "?")
		ps, err := s.canonicalise(m, p, q)
		if err != nil || !ps.hasSig || !decodeSig(&s.sig, ps.sig) {
			return "", "", false
		}
		return string(s.sts), string(s.sig[:]), true
	}
	sts1, sig1, ok1 := canon(m1, t1)
	sts2, sig2, ok2 := canon(m2, t2)
	return ok1 && ok2 && sts1 == sts2 && sig1 == sig2
}
