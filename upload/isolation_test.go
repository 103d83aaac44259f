package upload_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

// Issue 12, hole 7: a FUS answer that points at a host the operator did
// not list, or that asks the PUT to carry credentials, is a 502
// file_upload_service_unavailable; the PUT never reaches any storage, and
// neither the problem nor the log quotes the presigned URL.
func TestHandlerRefusesUnusableFUSAnswer(t *testing.T) {
	listed := newRecorder(t, http.StatusOK, nil, "")
	unlisted := newRecorder(t, http.StatusOK, nil, "")
	const secret = "X-Amz-Signature=s3cr3t"
	for name, answer := range map[string]uploadtest.Answer{
		"Authorization header":   {URL: listed.URL + "/b/o?" + secret, Headers: map[string]string{"Authorization": "Bearer fus-token"}},
		"Cookie header":          {URL: listed.URL + "/b/o?" + secret, Headers: map[string]string{"cookie": "session=fus-cookie"}},
		"Proxy_Authorization":    {URL: listed.URL + "/b/o?" + secret, Headers: map[string]string{"Proxy_Authorization": "Basic eA=="}},
		"unlisted host":          {URL: unlisted.URL + "/b/o?" + secret},
		"listed host over https": {URL: "https://" + listed.Listener.Addr().String() + "/b/o?" + secret},
		"metadata service":       {URL: "https://169.254.169.254/latest/meta-data/iam?" + secret},
		"cluster API":            {URL: "https://10.0.0.1:6443/api/v1/secrets?" + secret},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFUS(t, fixed(answer.URL, answer.Headers), upload.WithStorageHosts(listed.host()))
			var logs bytes.Buffer
			dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": us01})
			require.NoError(t, err)
			verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
			require.NoError(t, err)
			h, err := upload.New(verifier, dir, f.Client, upload.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			require.NoError(t, err)
			srv := httptest.NewServer(h)
			defer srv.Close()
			signer, err := hmacsig.NewSigner(uploadKey)
			require.NoError(t, err)
			target, err := signer.SignURL(http.MethodPut, srv.URL+uploadPath("u", 0), time.Minute)
			require.NoError(t, err)

			resp := put(t, srv.Client(), target, []byte("the upload"), nil)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			p := readProblem(t, resp)
			assert.Equal(t, "file_upload_service_unavailable", p.Code)
			assert.EqualValues(t, 1, f.Calls.Load())
			assert.Zero(t, listed.count(), "the PUT never reaches storage")
			assert.Zero(t, unlisted.count(), "the PUT never reaches storage")
			for _, out := range []string{p.Detail, logs.String()} {
				assert.NotContains(t, out, "s3cr3t")
				assert.NotContains(t, out, "/b/o")
				assert.NotContains(t, out, "meta-data")
				assert.NotContains(t, out, "fus-token")
				assert.NotContains(t, out, "fus-cookie")
			}
			assert.Contains(t, logs.String(), "problem=file_upload_service_unavailable")
		})
	}
}
