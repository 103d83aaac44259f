package hmacsig_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
	h := hmacsig.Require(verifier)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

	fus := httptest.NewServer(hmacsig.Require(verifier)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
