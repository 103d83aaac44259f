package hmacsig

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testNow = 1_800_000_000

var (
	testKey, _  = hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	otherKey, _ = hex.DecodeString("6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283")
)

// signed returns path?query signed for method at testNow for lifetime.
func signed(t testing.TB, key []byte, method, path, query string, lifetime time.Duration, opts ...SignerOption) string {
	t.Helper()
	return signedAt(t, testNow, key, method, path, query, lifetime, opts...)
}

func signedAt(t testing.TB, now int64, key []byte, method, path, query string, lifetime time.Duration, opts ...SignerOption) string {
	t.Helper()
	s, err := NewSigner(key, append([]SignerOption{WithClock(fixedClock(now))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.sign(method, path, query, lifetime)
	if err != nil {
		t.Fatalf("sign %s %s?%s: %v", method, path, query, err)
	}
	return path + "?" + q
}

// replaceSig swaps the sig value of target.
func replaceSig(target, sig string) string {
	i := strings.LastIndex(target, "&sig=")
	return target[:i] + "&sig=" + sig
}

func sigOf(target string) string { return target[strings.LastIndex(target, "&sig=")+5:] }

func TestVerifyBadInput(t *testing.T) {
	const upload = "/rest/v2.1/companies/8/projects/77/uploads/01HZX3"
	put := signed(t, testKey, "PUT", upload, "part_number=2", time.Hour)
	withKid := signed(t, testKey, "PUT", upload, "", time.Hour, WithKeyID("k1"))
	plus := signed(t, testKey, "PUT", "/files/a+b", "name=a+b", time.Hour)
	slash := signed(t, testKey, "GET", "/files/a%2Fb", "", time.Hour)
	sig := sigOf(put)
	expiresAt := "expires_at=" + itoa(testNow+3600)

	cases := []struct {
		name   string
		method string
		target string
		kid    bool // verify with the k1 verifier
		want   error
	}{
		{"valid", "PUT", put, false, nil},
		{"method case folded to ASCII upper", "put", put, false, nil},
		{"upper-case hex sig", "PUT", replaceSig(put, strings.ToUpper(sig)), false, nil},
		{"empty pieces are dropped", "PUT", strings.Replace(put, "&", "&&&", 1) + "&", false, nil},
		{"lower-case escapes equal upper-case", "GET", strings.Replace(slash, "%2F", "%2f", 1), false, nil},
		{"kid selects named key", "PUT", withKid, true, nil},
		{"RequestURI used, not URL", "GET", slash, false, nil},

		{"missing sig", "PUT", put[:strings.LastIndex(put, "&sig=")], false, ErrMissing},
		{"missing expires_at", "PUT", strings.Replace(put, expiresAt, "x=1", 1), false, ErrMissing},
		{"missing both", "PUT", upload + "?part_number=2", false, ErrMissing},
		{"no query", "PUT", upload, false, ErrMissing},
		{"missing beats malformed sig", "PUT", upload + "?sig=zz", false, ErrMissing},
		{"repeated sig", "PUT", put + "&sig=" + sig, false, ErrMalformed},
		{"repeated sig, encoded name", "PUT", put + "&%73ig=" + sig, false, ErrMalformed},
		{"repeated expires_at", "PUT", put + "&" + expiresAt, false, ErrMalformed},
		{"empty sig", "PUT", replaceSig(put, ""), false, ErrMalformed},
		{"sig without =", "PUT", put[:strings.LastIndex(put, "&sig=")] + "&sig", false, ErrMalformed},
		{"empty expires_at", "PUT", strings.Replace(put, expiresAt, "expires_at=", 1), false, ErrMalformed},
		{"non-digit expires_at", "PUT", strings.Replace(put, expiresAt, "expires_at=18000036O0", 1), false, ErrMalformed},
		{"zero expires_at", "PUT", strings.Replace(put, expiresAt, "expires_at=0", 1), false, ErrMalformed},
		{"non-hex sig", "PUT", replaceSig(put, "g"+sig[1:]), false, ErrMalformed},
		{"62 hex digits", "PUT", replaceSig(put, sig[2:]), false, ErrMalformed},
		{"66 hex digits", "PUT", replaceSig(put, sig+"00"), false, ErrMalformed},
		{"percent-encoded sig", "PUT", replaceSig(put, "%"+hex.EncodeToString([]byte(sig[:1]))+sig[1:]), false, ErrMalformed},
		{"empty kid", "PUT", strings.Replace(withKid, "kid=k1", "kid=", 1), true, ErrMalformed},
		{"kid with tilde", "PUT", strings.Replace(withKid, "kid=k1", "kid=k~1", 1), true, ErrMalformed},
		{"kid too long", "PUT", strings.Replace(withKid, "kid=k1", "kid="+strings.Repeat("k", 65), 1), true, ErrMalformed},
		{"signed for PUT, sent as GET", "GET", put, false, ErrMismatch},
		{"method not letters", "M-SEARCH", put, false, ErrMalformed},
		{"other key", "PUT", signed(t, otherKey, "PUT", upload, "part_number=2", time.Hour), false, ErrMismatch},
		{"flipped sig", "PUT", replaceSig(put, flipHex(sig)), false, ErrMismatch},
		{"expired", "PUT", signedAt(t, testNow-3600, testKey, "PUT", upload, "", time.Hour-6*time.Second), false, ErrExpired},
		{"too far in the future", "PUT", signed(t, testKey, "PUT", upload, "", 8*24*time.Hour), false, ErrLifetimeTooLong},
		{"unknown kid", "PUT", strings.Replace(withKid, "kid=k1", "kid=k2", 1), true, ErrMismatch},
		{"kid removed", "PUT", strings.Replace(withKid, "&kid=k1", "", 1), true, ErrMismatch},
		{"kid URL, unnamed keys only", "PUT", withKid, false, ErrMismatch},
		{"bad escape in path", "PUT", strings.Replace(put, "01HZX3", "01HZX%3", 1), false, ErrMalformed},
		{"bad escape at end of query", "PUT", put + "&x=%", false, ErrMalformed},
		{"bad escape with non-hex", "PUT", put + "&x=%g0", false, ErrMalformed},
		{"%2F sent as /", "GET", strings.Replace(slash, "%2F", "/", 1), false, ErrMismatch},
		{"/ sent as %2F", "PUT", strings.Replace(put, "uploads/", "uploads%2F", 1), false, ErrMismatch},
		{"query + is %20", "PUT", strings.Replace(plus, "name=a+b", "name=a%20b", 1), false, nil},
		{"query + is not %2B", "PUT", strings.Replace(plus, "name=a+b", "name=a%2Bb", 1), false, ErrMismatch},
		{"path + is %2B", "PUT", strings.Replace(plus, "/a+b", "/a%2Bb", 1), false, nil},
		{"path + is not %20", "PUT", strings.Replace(plus, "/a+b", "/a%20b", 1), false, ErrMismatch},
		{"parameter added after signing", "PUT", put + "&part_number2=3", false, ErrMismatch},
		{"parameter added before signing", "PUT", strings.Replace(put, "?", "?x=1&", 1), false, ErrMismatch},
		{"parameter removed", "PUT", strings.Replace(put, "part_number=2&", "", 1), false, ErrMismatch},
		{"empty value added", "PUT", put + "&flag", false, ErrMismatch},
		{"raw space", "PUT", strings.Replace(put, "01HZX3", "01HZX 3", 1), false, ErrMalformed},
		{"raw semicolon", "PUT", put + "&a=b;c", false, ErrMalformed},
		{"second question mark", "PUT", put + "&a=b?c", false, ErrMalformed},
		{"fragment", "PUT", put + "#frag", false, ErrMalformed},
		{"non-ASCII byte", "PUT", strings.Replace(put, "01HZX3", "01HZX\xc3\xa9", 1), false, ErrMalformed},
		{"control byte", "PUT", put + "&a=\x01", false, ErrMalformed},
		{"dot segment", "PUT", strings.Replace(put, "/uploads/", "/./uploads/", 1), false, ErrMalformed},
		{"dot-dot segment", "PUT", strings.Replace(put, "/uploads/", "/x/../uploads/", 1), false, ErrMalformed},
		{"empty segment", "PUT", strings.Replace(put, "/uploads/", "//uploads/", 1), false, ErrMalformed},
		{"absolute-form", "PUT", "http://files.example" + put, false, ErrMalformed},
		{"asterisk-form", "OPTIONS", "*", false, ErrMalformed},
		{"invalid UTF-8 in a value", "PUT", put + "&a=%C3", false, ErrMalformed},
	}
	named, err := NewVerifier(Keys{ByID: map[string][]byte{"k1": testKey}}, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	unnamed, err := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := unnamed
			if c.kid {
				v = named
			}
			err := v.Verify(request(c.method, c.target))
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify(%s %q) = %v", c.method, c.target, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify(%s %q) = %v, want %v", c.method, c.target, err, c.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// flipHex changes the last hex digit of s.
func flipHex(s string) string {
	last := byte('0')
	if s[len(s)-1] == '0' {
		last = '1'
	}
	return s[:len(s)-1] + string(last)
}

func TestVerifyExpiryBoundaries(t *testing.T) {
	target := signed(t, testKey, "GET", "/x", "", time.Hour) // expires at testNow+3600
	exp := time.Unix(testNow+3600, 0)
	cases := []struct {
		name   string
		now    time.Time
		leeway VerifierOption
		max    time.Duration
		want   error
	}{
		{"at expiry", exp, WithLeeway(DefaultLeeway), DefaultMaxLifetime, nil},
		{"at end of leeway", exp.Add(DefaultLeeway), WithLeeway(DefaultLeeway), DefaultMaxLifetime, nil},
		{"just past leeway", exp.Add(DefaultLeeway + time.Nanosecond), WithLeeway(DefaultLeeway), DefaultMaxLifetime, ErrExpired},
		{"no leeway", exp.Add(time.Nanosecond), WithoutLeeway(), DefaultMaxLifetime, ErrExpired},
		{"zero leeway is the default", exp.Add(DefaultLeeway), WithLeeway(0), DefaultMaxLifetime, nil},
		{"lifetime equals max", exp.Add(-time.Hour), WithLeeway(DefaultLeeway), time.Hour, nil},
		{"lifetime just over max", exp.Add(-time.Hour - time.Nanosecond), WithLeeway(DefaultLeeway), time.Hour, ErrLifetimeTooLong},
		{"service-to-service max", exp.Add(-time.Hour), WithLeeway(DefaultLeeway), 5 * time.Minute, ErrLifetimeTooLong},
		{"zero max is the default", exp.Add(-time.Hour), WithLeeway(DefaultLeeway), 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVerifier(Keys{Current: testKey},
				WithClock(func() time.Time { return c.now }), c.leeway, WithMaxLifetime(c.max))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(request("GET", target)); !errors.Is(err, c.want) && (err != nil || c.want != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	oldURL := signed(t, otherKey, "GET", "/x", "", time.Hour)
	newURL := signed(t, testKey, "GET", "/x", "", time.Hour)
	v, err := NewVerifier(Keys{Current: testKey, Previous: otherKey}, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{oldURL: "previous", newURL: "current"} {
		got, _, err := v.verify(request("GET", target))
		if err != nil || got != want {
			t.Errorf("verify = %q, %v; want %q", got, err, want)
		}
	}
	retired, err := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	if err := retired.Verify(request("GET", oldURL)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("old URL after rotation: %v", err)
	}
}

// A request built on the client side has no RequestURI: its URL is read.
func TestVerifyWithoutRequestURI(t *testing.T) {
	target := signed(t, testKey, "GET", "/files/a%2Fb/caf%C3%A9", "q=a+b", time.Hour)
	u, err := url.Parse("http://example.test" + target)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	if err := v.Verify(&http.Request{URL: u}); err != nil { // "" is GET
		t.Fatal(err)
	}
	if err := v.Verify(&http.Request{Method: "GET"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("no target at all: %v", err)
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	short := make([]byte, MinKeySize-1)
	cases := []struct {
		name string
		keys Keys
		opts []VerifierOption
	}{
		{"empty set", Keys{}, nil},
		{"empty map", Keys{ByID: map[string][]byte{}}, nil},
		{"short current", Keys{Current: short}, nil},
		{"short previous", Keys{Current: testKey, Previous: short}, nil},
		{"previous without current", Keys{Previous: testKey}, nil},
		{"short named key", Keys{ByID: map[string][]byte{"k": short}}, nil},
		{"empty kid", Keys{ByID: map[string][]byte{"": testKey}}, nil},
		{"kid with space", Keys{ByID: map[string][]byte{"a b": testKey}}, nil},
		{"kid too long", Keys{ByID: map[string][]byte{strings.Repeat("k", 65): testKey}}, nil},
		{"negative leeway", Keys{Current: testKey}, []VerifierOption{WithLeeway(-time.Second)}},
		{"negative max lifetime", Keys{Current: testKey}, []VerifierOption{WithMaxLifetime(-time.Second)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if v, err := NewVerifier(c.keys, c.opts...); err == nil {
				t.Fatalf("NewVerifier = %v, want an error", v)
			}
		})
	}
	if _, err := NewVerifier(Keys{ByID: map[string][]byte{strings.Repeat("k", 64): testKey, "A-z_0.9": testKey}}); err != nil {
		t.Fatalf("valid kids refused: %v", err)
	}
}

// The verifier keeps its own copy of the keys.
func TestVerifierCopiesKeys(t *testing.T) {
	key := append([]byte(nil), testKey...)
	v, err := NewVerifier(Keys{Current: key}, WithClock(fixedClock(testNow)))
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if err := v.Verify(request("GET", signed(t, testKey, "GET", "/x", "", time.Hour))); err != nil {
		t.Fatal(err)
	}
}
