package upload_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

// The upload service in one process: a storage stand-in that answers like
// S3, the zone's FUS reached through a binding, and the chain of New.
func Example() {
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := md5.New()
		io.Copy(h, r.Body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(h.Sum(nil))+`"`)
	}))
	defer storage.Close()

	fusKey := bytes.Repeat([]byte("f"), 32)
	uploadKey := bytes.Repeat([]byte("u"), 32)

	// The zone's file upload service presigns; here it points at the stand-in.
	fusVerifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	fus, err := uploadtest.NewFUS(fusVerifier, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		id := p.UploadID
		return uploadtest.Answer{URL: storage.URL + "/bucket/" + id + "?X-Amz-Signature=..."}, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	fusSigner, _ := hmacsig.NewSigner(fusKey)
	client, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, fusSigner,
		upload.WithFUSTransport(edge.Binding(fus)),
		upload.WithStorageHosts(storage.URL)) // plain http to this address only
	if err != nil {
		panic(err)
	}
	dir, _ := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.example.com"}})
	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	h, err := upload.New(verifier, dir, client)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The origin signs the upload URL with the upload key; the client PUTs.
	signer, _ := hmacsig.NewSigner(uploadKey)
	u, _ := signer.SignURL(http.MethodPut, srv.URL+"/rest/v2.1/companies/42/projects/7/uploads/report_1", time.Minute)
	req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader("hello"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("ETag"))
	fmt.Print(string(body))
	// Output:
	// 200 "5d41402abc4b2a76b9719d911017c592"
	// {"etag":"\"5d41402abc4b2a76b9719d911017c592\"","size":5}
}
