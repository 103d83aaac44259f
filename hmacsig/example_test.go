package hmacsig_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
)

// A signer (here with a fixed clock) hands out an upload URL; the storage
// edge verifies it with Require and rejects it once tampered with.
func Example() {
	key, _ := hmacsig.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	now := func() time.Time { return time.Unix(1893455000, 0) }

	signer, _ := hmacsig.NewSigner(key, hmacsig.WithClock(now))
	signed, _ := signer.SignURL("PUT", "/rest/v2.1/companies/8/projects/77/uploads/01HZX3", 1000*time.Second)
	fmt.Println(signed)

	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: key}, hmacsig.WithClock(now))
	require, err := hmacsig.Require(verifier)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "verified with the %s key", hmacsig.KeyIDFromContext(r.Context()))
	}))

	for _, target := range []string{signed, signed + "&part_number=2"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("PUT", target, nil))
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// /rest/v2.1/companies/8/projects/77/uploads/01HZX3?expires_at=1893456000&sig=38c6e43e2ea6be464bf9a539ac837c87c191b8353901762da9ce5f1111e4f6f0
	// 200 verified with the current key
	// 403 {"type":"urn:cellgate:problem:signature_mismatch","title":"Forbidden","status":403,"detail":"The URL signature does not match.","code":"signature_mismatch"}
}

// A Transport signs every call a client makes to another service.
func ExampleTransport() {
	key, _ := hmacsig.ParseKey("ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=")
	now := func() time.Time { return time.Unix(1893455000, 0) }
	signer, _ := hmacsig.NewSigner(key, hmacsig.WithKeyID("fus-2026-11"), hmacsig.WithClock(now))
	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{ByID: map[string][]byte{"fus-2026-11": key}},
		hmacsig.WithClock(now), hmacsig.WithMaxLifetime(5*time.Minute))

	require, err := hmacsig.Require(verifier)
	if err != nil {
		fmt.Println(err)
		return
	}
	fus := httptest.NewServer(require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("file upload service got", r.URL.Path, "signed with", hmacsig.KeyIDFromContext(r.Context()))
	})))
	defer fus.Close()

	client := &http.Client{Transport: &hmacsig.Transport{Signer: signer, Lifetime: 30 * time.Second}}
	resp, err := client.Get(fus.URL + "/v1/uploads/01HZX3/url?part_number=2")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// file upload service got /v1/uploads/01HZX3/url signed with fus-2026-11
	// 200
}

// A URL signed with its body's Content-Digest carries that body only: the
// service requires the digest on PUT and reads the body to its end, where
// the digest is checked, before it acts.
func ExampleRequireContentDigest() {
	key, _ := hmacsig.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	now := func() time.Time { return time.Unix(1893455940, 0) }
	signer, _ := hmacsig.NewSigner(key, hmacsig.WithClock(now))
	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: key}, hmacsig.WithClock(now))

	require, err := hmacsig.Require(verifier, hmacsig.RequireContentDigest("PUT"))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := require(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			var body strings.Builder
			if _, err := io.Copy(&body, r.Body); err != nil { // the digest's verdict comes at the end
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, err)
				return
			}
			fmt.Fprint(w, "stored ", body.String()) // only now act on it
		}))

	digest := hmacsig.ContentDigest([]byte(`{"companies":["1"]}`))
	u, _ := url.Parse("/session?key=k")
	signed, _ := signer.SignContent("PUT", u, digest, time.Minute)
	fmt.Println(signed, digest)

	for _, body := range []string{`{"companies":["1"]}`, `{"companies":["1","2","3"]}`} {
		r := httptest.NewRequest("PUT", signed.String(), strings.NewReader(body))
		r.Header.Set(hmacsig.ContentDigestHeader, digest)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// /session?key=k&expires_at=1893456000&content_digest=sha-256&sig=dc81554efd36b109a44ae919bd6cf0696523a53683bb9abfb49e5df55e8dcb01 sha-256=:nO35YJoI3cX+LOzvXSKCJYHhZ11CnZU6qW2RCXoxzI8=:
	// 200 stored {"companies":["1"]}
	// 403 content_digest_mismatch: The request body does not match its signed Content-Digest.
}
