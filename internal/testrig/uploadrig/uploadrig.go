// Package uploadrig is the test rig shared by the upload package's tests and
// the real-storage tests of the examples module: an in-process file upload
// service, a client and a handler wired to it, and small HTTP helpers.
package uploadrig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

var (
	// FUSKey signs the calls to the file upload service.
	FUSKey = bytes.Repeat([]byte("f"), 32)
	// US01 is the zone the rig serves.
	US01 = zone.Zone{Name: "us01", WebBaseURL: "https://us01.example.com"}
)

// FUS is an in-process file upload service reached through edge.Binding,
// counting its calls.
type FUS struct {
	Calls  atomic.Int64   // FUS calls so far
	Client *upload.Client // a client of the FUS
}

// NewFUS returns a FUS for zone us01 answering with presign, and a client
// of it built with opts.
func NewFUS(t testing.TB, presign uploadtest.Presign, opts ...upload.ClientOption) *FUS {
	t.Helper()
	f := &FUS{}
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: FUSKey})
	if err != nil {
		t.Fatal(err)
	}
	counted := func(ctx context.Context, p upload.Params) (uploadtest.Answer, error) {
		f.Calls.Add(1)
		return presign(ctx, p)
	}
	signer, err := hmacsig.NewSigner(FUSKey)
	if err != nil {
		t.Fatal(err)
	}
	fus, err := uploadtest.NewFUS(verifier, counted)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]upload.ClientOption{upload.WithFUSTransport(edge.Binding(fus))}, opts...)
	f.Client, err = upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Fixed answers every upload with the same URL and headers.
func Fixed(url string, headers map[string]string) uploadtest.Presign {
	return func(context.Context, upload.Params) (uploadtest.Answer, error) {
		return uploadtest.Answer{URL: url, Headers: headers}, nil
	}
}

// Mount serves h on the upload patterns, in zone us01, as zone.Resolve
// would have left it.
func Mount(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	z := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(zone.ContextWithZone(r.Context(), US01)))
	})
	mux.Handle(upload.PatternUpload, z)
	mux.Handle(upload.PatternPart, z)
	return mux
}

// NewHandler builds a Handler over f, mounted and served over HTTP/1.
func NewHandler(t testing.TB, f *FUS, opts ...upload.HandlerOption) *httptest.Server {
	t.Helper()
	h, err := upload.NewHandler(f.Client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Mount(h))
	t.Cleanup(srv.Close)
	return srv
}

// Path is the upload path of id in company 42, project 7 (part 0: the
// whole upload).
func Path(id string, part int) string {
	p := "/rest/v2.1/companies/42/projects/7/uploads/" + id
	if part > 0 {
		p += "/parts/" + strconv.Itoa(part)
	}
	return p
}

// Put sends body to url with an exact Content-Length.
func Put(t testing.TB, client *http.Client, url string, body []byte, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Problem is the part of a problem+json body tests look at.
type Problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

// ReadProblem decodes the problem resp carries, failing t if it is none.
func ReadProblem(t testing.TB, resp *http.Response) Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != edge.ContentTypeProblem {
		t.Fatalf("status %d, content type %q, body %s: want a problem", resp.StatusCode, ct, head(resp.Body))
	}
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Answer is the JSON of a successful upload.
type Answer struct {
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
	PartNumber int    `json:"part_number"`
}

// ReadAnswer decodes the answer of a successful upload, failing t otherwise.
func ReadAnswer(t testing.TB, resp *http.Response) Answer {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, head(resp.Body))
	}
	var a Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// SHA returns the hex SHA-256 of b.
func SHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Payload returns n deterministic, incompressible-looking bytes.
func Payload(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// head returns the first 4 KiB of r, for a failure message.
func head(r io.Reader) string {
	var b strings.Builder
	_, _ = io.Copy(&b, io.LimitReader(r, 4<<10))
	return b.String()
}
