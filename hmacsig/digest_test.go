package hmacsig

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestContentDigestForm(t *testing.T) {
	// RFC 9530, section 2.
	if got := ContentDigest([]byte(`{"hello": "world"}`)); got != "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:" {
		t.Fatalf("ContentDigest = %s", got)
	}
	var sum [32]byte
	good := ContentDigest([]byte("x"))
	if !parseContentDigest(&sum, good) {
		t.Fatalf("parseContentDigest(%s) = false", good)
	}
	for _, bad := range []string{"", good + " ", " " + good, good + ",", strings.ToUpper(good[:7]) + good[7:],
		strings.Replace(good, "=:", ":", 1), good[:len(good)-1], "sha-256=:" + strings.Repeat("A", 44) + ":"} {
		if parseContentDigest(&sum, bad) {
			t.Errorf("parseContentDigest(%q) = true", bad)
		}
	}
}

// bound signs a PUT of body on path for a request carrying its digest.
func bound(t *testing.T, path, body string) (target, digest string) {
	t.Helper()
	s, err := NewSigner(testKey, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	digest = ContentDigest([]byte(body))
	u, err := s.SignContent("PUT", mustParse(t, path), digest, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI(), digest
}

func TestVerifyChecksTheBodyAtItsEnd(t *testing.T) {
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	target, digest := bound(t, "/session?key=k", `{"companies":["1"]}`)
	for name, c := range map[string]struct {
		body string
		want error
	}{
		"signed body":  {`{"companies":["1"]}`, nil},
		"another body": {`{"companies":["1","2","3"]}`, ErrContentDigestMismatch},
		"a prefix":     {`{"companies":["1"]`, ErrContentDigestMismatch},
		"empty":        {"", ErrContentDigestMismatch},
	} {
		r := digestRequest("PUT", target, []string{digest}, c.body)
		if err := v.Verify(r); err != nil {
			t.Fatalf("%s: Verify = %v", name, err)
		}
		got, err := io.ReadAll(r.Body)
		if string(got) != c.body || err != c.want {
			t.Fatalf("%s: read %q, %v; want the body and %v", name, got, err, c.want)
		}
		if _, err := r.Body.Read(make([]byte, 1)); !errors.Is(err, c.want) && !(c.want == nil && err == io.EOF) {
			t.Fatalf("%s: the verdict is not sticky: %v", name, err)
		}
	}

	// The end may come with the last bytes; a read error is not hidden.
	r := digestRequest("PUT", target, []string{digest}, "")
	_ = v.Verify(r)
	r.Body = newDigestBody(io.NopCloser(iotest.DataErrReader(strings.NewReader("xyz"))), new([32]byte))
	if n, err := r.Body.Read(make([]byte, 8)); n != 3 || err != ErrContentDigestMismatch {
		t.Fatalf("Read = %d, %v; want 3 bytes with the mismatch", n, err)
	}
	boom := errors.New("connection reset")
	r.Body = newDigestBody(io.NopCloser(iotest.ErrReader(boom)), new([32]byte))
	if _, err := r.Body.Read(make([]byte, 8)); err != boom {
		t.Fatalf("Read = %v, want the transport error", err)
	}

	// Without content_digest the body is left alone and the header ignored.
	r = digestRequest("PUT", signed(t, testKey, "PUT", "/session", "key=k", time.Minute), []string{"nonsense"}, "body")
	body := r.Body
	if err := v.Verify(r); err != nil || r.Body != body {
		t.Fatalf("Verify = %v, body replaced %v", err, r.Body != body)
	}
}

// A JSON decoder returns the value before it reads the body's end, where
// the digest is checked: this is why handlers must read to io.EOF (the
// session storage API does) before acting on what they decoded.
func TestDecoderStopsBeforeTheDigestCheck(t *testing.T) {
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	target, digest := bound(t, "/session?key=k", `{"companies":["1"]}`)
	r := digestRequest("PUT", target, []string{digest}, `{"companies":["1","2","3"]}`)
	if err := v.Verify(r); err != nil {
		t.Fatal(err)
	}
	var got struct{ Companies []string }
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&got); err != nil || len(got.Companies) != 3 {
		t.Fatalf("Decode = %v, %v", got, err)
	}
	if dec.More() {
		t.Fatal("More = true")
	}
	if _, err := io.Copy(io.Discard, io.MultiReader(dec.Buffered(), r.Body)); err != ErrContentDigestMismatch {
		t.Fatalf("reading to the end: %v, want the mismatch", err)
	}
}

func TestSignContentRefuses(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	digest := ContentDigest(nil)
	for name, c := range map[string]struct{ url, digest string }{
		"malformed digest":         {"/x", "sha-256=:abc:"},
		"empty digest":             {"/x", ""},
		"own content_digest":       {"/x?content_digest=sha-256", digest},
		"own content_digest, Sign": {"/x?content_digest=sha-256", ""},
	} {
		var err error
		if c.digest == "" && strings.HasSuffix(name, "Sign") {
			_, err = s.Sign("PUT", mustParse(t, c.url), time.Minute)
		} else {
			_, err = s.SignContent("PUT", mustParse(t, c.url), c.digest, time.Minute)
		}
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	u, err := s.SignContent("PUT", mustParse(t, "/x?a=1"), digest, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a=1&expires_at=" + itoa(testNow+60) + "&content_digest=sha-256&sig="; !strings.HasPrefix(u.RawQuery, want) {
		t.Fatalf("query %q, want prefix %q", u.RawQuery, want)
	}
}

func TestRequireContentDigest(t *testing.T) {
	var seen outcomes
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)), WithObserver(&seen))
	h := must.Build(Require(v, RequireContentDigest("put", "POST")))(readAll)
	target, digest := bound(t, "/session?key=k", "{}")
	for _, c := range []struct {
		method, target, digest, code string
	}{
		{"PUT", target, digest, ""},
		{"PUT", signed(t, testKey, "PUT", "/session", "key=k", time.Minute), digest, "content_digest_missing"},
		{"POST", signed(t, testKey, "POST", "/session", "key=k", time.Minute), "", "content_digest_missing"},
		{"GET", signed(t, testKey, "GET", "/session", "key=k", time.Minute), "", ""},
		{"PUT", "/session?key=k", digest, "signature_missing"},
	} {
		rec := httptest.NewRecorder()
		var d []string
		if c.digest != "" {
			d = []string{c.digest}
		}
		h.ServeHTTP(rec, digestRequest(c.method, c.target, d, "{}"))
		var p struct{ Code string }
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		if p.Code != c.code || (c.code == "") != (rec.Code == http.StatusNoContent) {
			t.Errorf("%s %s: %d %s, want code %q", c.method, c.target, rec.Code, rec.Body, c.code)
		}
	}
	want := []string{OutcomeOK, "content_digest_missing", "content_digest_missing", OutcomeOK, "signature_missing"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("outcomes %v, want %v", seen, want)
	}

	for name, opt := range map[string]RequireOption{
		"no method":  RequireContentDigest(),
		"bad method": RequireContentDigest("PUT", "M-SEARCH"),
		"empty":      RequireContentDigest(""),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Require did not panic", name)
				}
			}()
			must.Build(Require(v, opt))
		}()
	}
}

// body is a request body that can be read once, without GetBody.
type onceBody struct{ io.Reader }

func (onceBody) Close() error { return nil }

func TestTransportContentDigest(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	h := must.Build(Require(v, RequireContentDigest("PUT", "POST")))(readAll)
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(rt *Transport, req *http.Request) (int, error) {
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	newReq := func(method string, body io.Reader) *http.Request {
		req, err := http.NewRequest(method, srv.URL+"/session?key=k", body)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	// Computed from a second copy of the body, on a copy of the request.
	tap := &recorder{}
	rt := &Transport{Signer: s, ContentDigest: true, Base: roundTrip(func(r *http.Request) (*http.Response, error) {
		tap.got = r
		return http.DefaultTransport.RoundTrip(r)
	})}
	req := newReq("PUT", strings.NewReader(`{"a":1}`))
	if code, err := send(rt, req); err != nil || code != http.StatusNoContent {
		t.Fatalf("computed digest: %d %v", code, err)
	}
	if req.Header.Get(ContentDigestHeader) != "" {
		t.Fatal("the caller's request got a header")
	}
	if got := tap.got.Header.Get(ContentDigestHeader); got != ContentDigest([]byte(`{"a":1}`)) {
		t.Fatalf("sent Content-Digest %q", got)
	}
	// No body: the digest of the empty body.
	if code, err := send(rt, newReq("POST", nil)); err != nil || code != http.StatusNoContent {
		t.Fatalf("empty body: %d %v", code, err)
	}
	// A body that cannot be read twice is refused, not buffered.
	req = newReq("PUT", nil)
	req.Body = onceBody{strings.NewReader("x")}
	if _, err := send(rt, req); err == nil || !strings.Contains(err.Error(), "GetBody") {
		t.Fatalf("one-shot body: %v", err)
	}

	// Without the field, a header the caller set is signed, and only then.
	plain := &Transport{Signer: s}
	req = newReq("PUT", onceBody{strings.NewReader("x")})
	req.Header.Set(ContentDigestHeader, ContentDigest([]byte("x")))
	if code, err := send(plain, req); err != nil || code != http.StatusNoContent {
		t.Fatalf("caller's digest: %d %v", code, err)
	}
	if code, err := send(plain, newReq("PUT", strings.NewReader("x"))); err != nil || code != http.StatusForbidden {
		t.Fatalf("no digest: %d %v, want 403", code, err)
	}
	req = newReq("PUT", strings.NewReader("x"))
	req.Header.Set(ContentDigestHeader, ContentDigest([]byte("y")))
	if code, err := send(plain, req); err != nil || code != http.StatusForbidden {
		t.Fatalf("a digest of another body: %d %v, want 403", code, err)
	}
	for name, values := range map[string][]string{
		"two lines": {ContentDigest(nil), ContentDigest(nil)},
		"malformed": {"sha-256=abc"},
		"empty":     {""},
	} {
		req = newReq("PUT", bytes.NewReader(nil))
		req.Header[ContentDigestHeader] = values
		if _, err := send(plain, req); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzContentDigest: parsing a Content-Digest never panics, and what it
// accepts is exactly the canonical form of the digest it read.
func FuzzContentDigest(f *testing.F) {
	f.Add(ContentDigest(nil))
	f.Add("sha-256=:" + strings.Repeat("A", 44) + ":")
	f.Add("sha-256=:" + strings.Repeat("/", 43) + "=:")
	f.Fuzz(func(t *testing.T, v string) {
		var sum [32]byte
		if parseContentDigest(&sum, v) && formatDigest(&sum) != v {
			t.Fatalf("accepted %q, canonical form %q", v, formatDigest(&sum))
		}
	})
}
