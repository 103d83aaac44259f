package hmacsig

import (
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
