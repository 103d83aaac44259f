package hmacsig

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A typical upload URL: a part of a segmented upload, signed with a kid.
const benchPath = "/rest/v2.1/companies/8/projects/77/uploads/01HZX3K9QW7N2M4B6V8C0D1E2F/parts/3"
const benchQuery = "part_number=3&upload_id=2~aXJrJzvQ0W3l-Ab_cD&content_type=application%2Fpdf"

func BenchmarkVerify(b *testing.B) {
	target := signed(b, testKey, "PUT", benchPath, benchQuery, time.Hour, WithKeyID("upload-2026-11"))
	v, err := NewVerifier(Keys{Current: otherKey, ByID: map[string][]byte{"upload-2026-11": testKey}},
		WithClock(fixedClock(testNow)))
	if err != nil {
		b.Fatal(err)
	}
	r := &http.Request{Method: "PUT", RequestURI: target}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	target := signed(b, testKey, "PUT", benchPath, benchQuery, time.Hour)
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := &http.Request{Method: "PUT", RequestURI: target}
		for pb.Next() {
			if err := v.Verify(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s, err := NewSigner(testKey, WithKeyID("upload-2026-11"), WithClock(fixedClock(testNow)))
	if err != nil {
		b.Fatal(err)
	}
	u := &url.URL{Scheme: "https", Host: "files.example", Path: benchPath, RawQuery: benchQuery}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("PUT", u, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// A session storage PUT bound to its body: verifying the URL and the header,
// then hashing a 300-byte body as it is read.
func BenchmarkVerifyContentDigest(b *testing.B) {
	body := []byte(`{"id":"s-1","user":"u-1","companies":["1","2","3"],"created":"2029-12-31T23:00:00Z","expires":"2030-01-01T01:00:00Z","attrs":{"login":"sso","ip":"203.0.113.7","agent":"Mozilla/5.0 (X11; Linux x86_64)","mfa":"totp","locale":"en-GB"}}`)
	digest := ContentDigest(body)
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	u, err := s.SignContent("PUT", &url.URL{Path: "/internal/session", RawQuery: "key=5f1c0d3b9a7e4c2d8b6a0f1e3c5d7b9a2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c"}, digest, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	header := http.Header{ContentDigestHeader: {digest}}
	rd := bytes.NewReader(body)
	var buf [512]byte
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r := &http.Request{Method: "PUT", RequestURI: u.RequestURI(), Header: header, Body: io.NopCloser(rd)}
		if err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Body.Read(buf[:]); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
