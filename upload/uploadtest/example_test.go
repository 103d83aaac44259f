package uploadtest_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
)

// A FUS that hands out one presigned URL per upload, asked the way the
// upload handler asks: a signed GET.
func ExampleNewFUS() {
	key := bytes.Repeat([]byte{7}, 32) // the FUS key; at least 32 random bytes in real use
	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	signer, _ := hmacsig.NewSigner(key)

	fus, err := uploadtest.NewFUS(verifier, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		if p.UploadID == "gone" {
			return uploadtest.Answer{}, uploadtest.ErrUnknown
		}
		// One company's upload id never names another company's object.
		return uploadtest.Answer{
			URL:     fmt.Sprintf("https://storage.example.com/bucket/%s/%s/%s?part=%d", p.CompanyID, p.ProjectID, p.UploadID, p.PartNumber),
			Headers: map[string]string{"x-ms-blob-type": "BlockBlob"},
		}, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, target := range []string{
		"/companies/4/projects/7/uploads/report-1/url?part_number=2",
		"/companies/4/projects/7/uploads/gone/url",
	} {
		signed, _ := signer.SignURL(http.MethodGet, "http://fus.internal"+target, time.Minute)
		u, _ := url.Parse(signed)
		rec := httptest.NewRecorder()
		// A server sees the origin-form target: path and signed query.
		fus.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Unsigned calls are refused, as the real service refuses them.
	rec := httptest.NewRecorder()
	fus.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/companies/4/projects/7/uploads/report-1/url", nil))
	fmt.Println(rec.Code)
	// Output:
	// 200 {"url":"https://storage.example.com/bucket/4/7/report-1?part=2","headers":{"x-ms-blob-type":"BlockBlob"}}
	// 404 {"type":"urn:cellgate:problem:upload_unknown","title":"Not Found","status":404,"detail":"unknown upload","code":"upload_unknown"}
	// 403
}
