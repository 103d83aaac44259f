package hmacsig

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignKeepsQueryAndAppendsSignature(t *testing.T) {
	s, err := NewSigner(testKey, WithClock(fixedClock(testNow)), WithKeyID("fus-1"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse("https://files.example/v1/files/a%2Fb/caf%C3%A9?z=1&a=x+y&note=%2B#frag")
	if err != nil {
		t.Fatal(err)
	}
	before := *u
	got, err := s.Sign("put", u, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if *u != before {
		t.Fatalf("Sign modified its argument: %+v", u)
	}
	wantPrefix := "https://files.example/v1/files/a%2Fb/caf%C3%A9?z=1&a=x+y&note=%2B&expires_at=1800000090&kid=fus-1&sig="
	if s := got.String(); !strings.HasPrefix(s, wantPrefix) || len(s) != len(wantPrefix)+64+len("#frag") {
		t.Fatalf("signed URL = %s\nwant prefix %s", s, wantPrefix)
	}
	v, _ := NewVerifier(Keys{ByID: map[string][]byte{"fus-1": testKey}}, WithClock(fixedClock(testNow)))
	if err := v.Verify(request("PUT", got.RequestURI())); err != nil {
		t.Fatalf("Verify(%s) = %v", got.RequestURI(), err)
	}
}

func TestSignURL(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	cases := []struct{ in, wantPrefix string }{
		{"/files/x", "/files/x?expires_at=1800000060&sig="},
		{"/files/x?", "/files/x?expires_at=1800000060&sig="},
		{"/files/x?a=1&", "/files/x?a=1&expires_at=1800000060&sig="},
		{"http://h.example", "http://h.example?expires_at=1800000060&sig="}, // sent as "/?..."
		{"http://h.example/it's(1)!*,$:@x?n=x*y!'(),$:@/", "http://h.example/it's(1)!*,$:@x?n=x*y!'(),$:@/&expires_at=1800000060&sig="},
	}
	for _, c := range cases {
		got, err := s.SignURL("GET", c.in, time.Minute)
		if err != nil {
			t.Fatalf("SignURL(%q) = %v", c.in, err)
		}
		if !strings.HasPrefix(got, c.wantPrefix) {
			t.Fatalf("SignURL(%q) = %q, want prefix %q", c.in, got, c.wantPrefix)
		}
		u, _ := url.Parse(got)
		if err := v.Verify(request("GET", u.RequestURI())); err != nil {
			t.Fatalf("Verify(%s) = %v", u.RequestURI(), err)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	cases := []struct {
		name, method, url string
		lifetime          time.Duration
	}{
		{"raw semicolon in path", "GET", "/a;b", time.Minute},
		{"raw semicolon in query", "GET", "/a?x=1;2", time.Minute},
		{"bad escape", "GET", "/a?x=%2", time.Minute},
		{"dot-dot", "GET", "/a/../b", time.Minute},
		{"empty segment", "GET", "/a//b", time.Minute},
		{"relative", "GET", "a/b", time.Minute},
		{"opaque", "GET", "mailto:x@example.com", time.Minute},
		{"already signed", "GET", "/a?sig=00", time.Minute},
		{"has expires_at", "GET", "/a?expires_at=1", time.Minute},
		{"has kid", "GET", "/a?kid=x", time.Minute},
		{"repeated parameter", "GET", "/a?x=1&x=2", time.Minute},
		{"method not letters", "GET1", "/a", time.Minute},
		{"empty method", "", "/a", time.Minute},
		{"zero lifetime", "GET", "/a", 0},
		{"negative lifetime", "GET", "/a", -time.Minute},
		{"expiry beyond ten digits", "GET", "/a", 270 * 365 * 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := s.SignURL(c.method, c.url, c.lifetime); err == nil {
				t.Fatalf("SignURL = %q, want an error", got)
			}
		})
	}
	if _, err := s.Sign("GET", nil, time.Minute); err == nil {
		t.Fatal("Sign(nil) succeeded")
	}
	// A path with ';' set through url.URL.Path escapes to a raw ';', which the
	// spec forbids: Sign refuses rather than signing what it would not verify.
	if _, err := s.Sign("GET", &url.URL{Path: "/a;b"}, time.Minute); err == nil {
		t.Fatal("Sign(Path with ;) succeeded")
	}
}

func TestNewSignerRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		key  []byte
		opts []SignerOption
	}{
		"nil key":      {nil, nil},
		"short key":    {testKey[:31], nil},
		"bad kid":      {testKey, []SignerOption{WithKeyID("a/b")}},
		"kid too long": {testKey, []SignerOption{WithKeyID(strings.Repeat("k", 65))}},
	} {
		if s, err := NewSigner(c.key, c.opts...); err == nil {
			t.Errorf("%s: NewSigner = %v, want an error", name, s)
		}
	}
}

// The signer keeps its own copy of the key.
func TestSignerCopiesKey(t *testing.T) {
	key := append([]byte(nil), testKey...)
	s, err := NewSigner(key, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	got, err := s.SignURL("GET", "/x", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := signed(t, testKey, "GET", "/x", "", time.Minute); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
