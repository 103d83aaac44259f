package upload_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellgate/cellgate/upload"
)

// discardStorage answers every PUT like S3 after draining the body, in
// process, so the benchmark measures the handler and not a network.
type discardStorage struct{}

func (discardStorage) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Etag": {`"e"`}},
		Body: http.NoBody, Request: r,
	}, nil
}

// BenchmarkHandler is the per-request cost of the handler with a 1 KiB
// body: validation, the signed FUS call (in process, through
// edge.Binding), the PUT and the answer. The body copy itself is a few
// hundred nanoseconds of it.
func BenchmarkHandler(b *testing.B) {
	f := newFUS(b, fixed("https://bucket.s3.example.com/key?X-Amz-Signature=abc", map[string]string{"x-ms-blob-type": "BlockBlob"}), upload.WithStorageHosts("*.s3.example.com"))
	h, err := upload.NewHandler(f.Client, upload.WithStorageTransport(discardStorage{}))
	if err != nil {
		b.Fatal(err)
	}
	mux := mount(h)
	body := payload(1024)
	path := uploadPath("bench_1", 3)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPut, path, bytes.NewReader(body))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
