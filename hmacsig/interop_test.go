package hmacsig

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// interopCase is one line sent to interop/sign.mjs --jsonl.
type interopCase struct {
	KeyHex       string `json:"key_hex"`
	Kid          string `json:"kid,omitempty"`
	Method       string `json:"method"`
	Path         string `json:"path"`
	Query        string `json:"query"`
	ExpiresAt    int64  `json:"expires_at"`
	Now          int64  `json:"now"`
	VerifyTarget string `json:"verify_target"`
	// ContentDigest, when set, is signed and sent with the request.
	ContentDigest string `json:"content_digest,omitempty"`

	valid bool // whether the generator meant it to be signable
}

// interopAnswer is node's answer to one case.
type interopAnswer struct {
	StringToSign string  `json:"string_to_sign"`
	Sig          string  `json:"sig"`
	Target       string  `json:"target"`
	Error        string  `json:"error"`
	VerifyCode   *string `json:"verify_code"`
}

// Pieces the generator builds paths and queries from: what library
// encoders get wrong (sub-delims, '+', spaces, %2F, lower-case escapes,
// UTF-8) and names that look alike once decoded.
var (
	genSegAtoms = []string{
		"a", "Z9", "uploads", "01HZX3", "-", "_", "~", "x.y", "v2.1",
		"!", "$", "&", "'", "(", ")", "*", "+", ",", "=", ":", "@",
		"%2F", "%2f", "%20", "%2B", "%25", "%7e", "%7E", "%3B", "%3F", "%23", "%41", "%2e",
		"%C3%A9", "%e6%97%a5", "%F0%9F%98%80", "caf%C3%A9",
	}
	genNames = []string{
		"a", "a1", "a-b", "a_b", "A", "a%20", "a+", "a.b", "%61", "%C3%A9", "name", "tag",
		"x%3Dy", "b~", "b%7E", "part_number", "upload_id", "%2B", "", "Sig", "expires",
	}
	genValues = []string{
		"", "1", "a+b", "a%20b", "a%2Bb", "x*y!'(),$:@/", "%C3%A9t%C3%A9", "=", "a=b", "%26",
		"~%7e", "%2F", "2~aXJr-Ab_cD", "application%2Fpdf", "%F0%9F%98%80",
	}
	genMethods = []string{"GET", "PUT", "post", "Delete", "PATCH", "MkCol"}
	genBreaks  = []func(c *interopCase){
		func(c *interopCase) { c.Path += "/%zz" },
		func(c *interopCase) { c.Path += "/a b" },
		func(c *interopCase) { c.Path += "/{x}" },
		func(c *interopCase) { c.Path += "/a;b" },
		func(c *interopCase) { c.Path += "/caf\u00e9" },
		func(c *interopCase) { c.Path += "/../x" },
		func(c *interopCase) { c.Path += "/%2E%2e" },
		func(c *interopCase) { c.Path = "/a//b" },
		func(c *interopCase) { c.Path += "/%C3" },
		func(c *interopCase) { c.Query += "&q=%G0" },
		func(c *interopCase) { c.Query += "&dup=1&dup=2" },
		func(c *interopCase) { c.Query += "&dup=1&d%75p=2" },
		func(c *interopCase) { c.Query += "&s=a?b" },
		func(c *interopCase) { c.Query += "&s=a#b" },
		func(c *interopCase) { c.Query += "&s=%" },
		func(c *interopCase) { c.Method = "M-SEARCH" },
	}
)

// genCases generates n signable cases and a share of broken ones,
// deterministically.
func genCases(n int) []interopCase {
	rng := rand.New(rand.NewPCG(4, 2026))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	keys := []string{hex.EncodeToString(testKey), hex.EncodeToString(otherKey)}
	var cases []interopCase
	for i := 0; len(cases) < n; i++ {
		c := interopCase{KeyHex: keys[i%2], Method: pick(genMethods), Now: testNow, valid: true}
		if i%3 == 0 {
			c.Kid = "k-" + string(rune('a'+i%26))
		}
		c.ExpiresAt = testNow + 1 + rng.Int64N(600_000)

		var path strings.Builder
		for range 1 + rng.IntN(4) {
			path.WriteByte('/')
			for range 1 + rng.IntN(3) {
				path.WriteString(pick(genSegAtoms))
			}
		}
		if rng.IntN(4) == 0 {
			path.WriteByte('/')
		}
		c.Path = path.String()
		if seg := c.Path[strings.LastIndexByte(c.Path, '/')+1:]; segIsDots(c.Path) || seg == "%2e" {
			continue // "." and ".." segments are malformed; the breaks cover them
		}

		seen := map[string]bool{}
		var q []string
		for range rng.IntN(6) {
			name := pick(genNames)
			decoded, _ := url.QueryUnescape(name)
			if seen[decoded] {
				continue
			}
			seen[decoded] = true
			switch rng.IntN(5) {
			case 0:
				q = append(q, name) // bare name
			case 1:
				q = append(q, "", name+"="+pick(genValues)) // an empty piece before
			default:
				q = append(q, name+"="+pick(genValues))
			}
		}
		c.Query = strings.Join(q, "&")
		if i%7 == 3 {
			c.valid = false
			genBreaks[(i/7)%len(genBreaks)](&c)
		}
		if i%4 == 1 { // bind a body, derived from the case so the sequence is unchanged
			c.ContentDigest = ContentDigest([]byte(c.Method + c.Path + c.Query))
		}
		cases = append(cases, c)
	}
	return cases
}

// segIsDots reports whether some segment of path decodes to "." or "..".
func segIsDots(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
			return true
		}
	}
	return false
}

// runNode feeds every case to interop/sign.mjs in one run.
func runNode(t *testing.T, cases []interopCase) []interopAnswer {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required in CI: ", err)
		}
		t.Skip("node not installed")
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, "interop/sign.mjs", "--jsonl")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var answers []interopAnswer
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var a interopAnswer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("node answer %q: %v", sc.Text(), err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(cases) {
		t.Fatalf("node answered %d of %d cases", len(answers), len(cases))
	}
	return answers
}

// Go and an independent Node implementation agree byte for byte on a few
// hundred generated cases, each verifying the other's URLs.
func TestInteropWithNode(t *testing.T) {
	cases := genCases(400)
	goSide := make([]struct {
		target, sts, sig string
		err              error
	}, len(cases))
	valid := 0
	for i := range cases {
		c := &cases[i]
		var opts []SignerOption
		if c.Kid != "" {
			opts = append(opts, WithKeyID(c.Kid))
		}
		s, err := NewSigner(mustHex(t, c.KeyHex), append(opts, WithClock(fixedClock(c.Now)))...)
		if err != nil {
			t.Fatal(err)
		}
		g := &goSide[i]
		q, err := s.signContent(c.Method, c.Path, c.Query, c.ContentDigest, time.Duration(c.ExpiresAt-c.Now)*time.Second)
		if (err == nil) != c.valid {
			t.Fatalf("case %d %s %s?%s: Go sign error %v, generated valid=%v", i, c.Method, c.Path, c.Query, err, c.valid)
		}
		if g.err = err; err == nil {
			valid++
			g.target = c.Path + "?" + q
			sc := getScratch()
			if _, err := sc.canonicalise(c.Method, c.Path, q); err != nil {
				t.Fatal(err)
			}
			if c.ContentDigest != "" {
				sc.appendDigestLine(c.ContentDigest)
			}
			g.sts, g.sig = string(sc.sts), q[len(q)-64:]
			putScratch(sc)
			c.VerifyTarget = g.target
		} else {
			c.VerifyTarget = c.Path + "?" + c.Query + "&expires_at=1800000001&sig=" + strings.Repeat("0", 64)
		}
	}
	if valid < 300 {
		t.Fatalf("only %d valid cases generated", valid)
	}
	req := func(c interopCase, method, target string) *http.Request {
		r := request(method, target)
		if c.ContentDigest != "" {
			r.Header = http.Header{ContentDigestHeader: {c.ContentDigest}}
		}
		return r
	}

	answers := runNode(t, cases)
	bound := 0
	for i, a := range answers {
		c, g := cases[i], goSide[i]
		where := func() string {
			return "case " + itoa(int64(i)) + " " + c.Method + " " + c.Path + "?" + c.Query
		}
		keys := Keys{Current: mustHex(t, c.KeyHex)}
		if c.Kid != "" {
			keys = Keys{ByID: map[string][]byte{c.Kid: mustHex(t, c.KeyHex)}}
		}
		v, err := NewVerifier(keys, WithClock(fixedClock(c.Now)))
		if err != nil {
			t.Fatal(err)
		}
		if g.err != nil {
			if a.Error != "signature_malformed" {
				t.Fatalf("%s: Go refused to sign (%v), node answered %+v", where(), g.err, a)
			}
			goErr := v.Verify(req(c, c.Method, c.VerifyTarget))
			if a.VerifyCode == nil || !errors.Is(goErr, ErrMalformed) || *a.VerifyCode != "signature_malformed" {
				t.Fatalf("%s: verify Go %v, node %v", where(), goErr, a.VerifyCode)
			}
			continue
		}
		if a.Error != "" {
			t.Fatalf("%s: node refused to sign: %s", where(), a.Error)
		}
		if a.StringToSign != g.sts || a.Sig != g.sig || a.Target != g.target {
			t.Fatalf("%s:\nGo   %q %s %s\nnode %q %s %s", where(), g.sts, g.sig, g.target, a.StringToSign, a.Sig, a.Target)
		}
		if a.VerifyCode != nil {
			t.Fatalf("%s: node rejects Go's URL: %s", where(), *a.VerifyCode)
		}
		if err := v.Verify(req(c, c.Method, a.Target)); err != nil {
			t.Fatalf("%s: Go rejects node's URL: %v", where(), err)
		}
		// And the signature binds the method, and the digest when there is one.
		if err := v.Verify(req(c, "OPTIONS", a.Target)); !errors.Is(err, ErrMismatch) {
			t.Fatalf("%s: OPTIONS: %v", where(), err)
		}
		if c.ContentDigest != "" {
			other := c
			other.ContentDigest = ContentDigest([]byte("another body"))
			if err := v.Verify(req(other, c.Method, a.Target)); !errors.Is(err, ErrMismatch) {
				t.Fatalf("%s: another Content-Digest: %v", where(), err)
			}
			bound++
		}
	}
	if bound < 50 {
		t.Fatalf("only %d valid cases with a Content-Digest", bound)
	}
}
