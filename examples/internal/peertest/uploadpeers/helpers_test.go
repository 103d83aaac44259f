package uploadpeers_test

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
	"sync/atomic"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

var (
	fusKey = bytes.Repeat([]byte("f"), 32)
	us01   = zone.Zone{Name: "us01", WebBaseURL: "https://us01.example.com"}
)

// fus is an in-process file upload service reached through edge.Binding,
// counting its calls.
type fus struct {
	calls  atomic.Int64
	client *upload.Client
}

// newFUS returns a FUS for zone us01 answering with presign, and a client
// of it built with opts.
func newFUS(t testing.TB, presign uploadtest.Presign, opts ...upload.Option) *fus {
	t.Helper()
	f := &fus{}
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	if err != nil {
		t.Fatal(err)
	}
	counted := func(ctx context.Context, p upload.Params) (uploadtest.Answer, error) {
		f.calls.Add(1)
		return presign(ctx, p)
	}
	signer, err := hmacsig.NewSigner(fusKey)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]upload.Option{upload.WithFUSTransport(edge.Binding(uploadtest.NewFUS(verifier, counted)))}, opts...)
	f.client, err = upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fixed answers every upload with the same URL and headers.
func fixed(url string, headers map[string]string) uploadtest.Presign {
	return func(context.Context, upload.Params) (uploadtest.Answer, error) {
		return uploadtest.Answer{URL: url, Headers: headers}, nil
	}
}

// mount serves h on the upload patterns, in zone us01, as zone.Resolve
// would have left it.
func mount(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	z := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(zone.ContextWithZone(r.Context(), us01)))
	})
	mux.Handle(upload.PatternUpload, z)
	mux.Handle(upload.PatternPart, z)
	return mux
}

// newHandler builds a Handler over f, mounted and served over HTTP/1.
func newHandler(t testing.TB, f *fus, opts ...upload.Option) *httptest.Server {
	t.Helper()
	h, err := upload.NewHandler(f.client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mount(h))
	t.Cleanup(srv.Close)
	return srv
}

func uploadPath(id string, part int) string {
	p := "/rest/v2.1/companies/42/projects/7/uploads/" + id
	if part > 0 {
		p += "/parts/" + strconv.Itoa(part)
	}
	return p
}

// put sends body to url with an exact Content-Length.
func put(t testing.TB, client *http.Client, url string, body []byte, header http.Header) *http.Response {
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

// problem is the part of a problem+json body tests look at.
type problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

func readProblem(t testing.TB, resp *http.Response) problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != edge.ContentTypeProblem {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, content type %q, body %s: want a problem", resp.StatusCode, ct, b)
	}
	var p problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// answer is the JSON of a successful upload.
type answer struct {
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
	PartNumber int    `json:"part_number"`
}

func readAnswer(t testing.TB, resp *http.Response) answer {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// payload returns n deterministic, incompressible-looking bytes.
func payload(n int) []byte {
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
