package upload_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
)

// A target check refuses a storage target before a byte is sent: with its
// own problem when it returns one, else as an unusable FUS answer.
func TestTargetCheckRefusesBeforeAByte(t *testing.T) {
	outOfRegion := edge.NewProblem(http.StatusBadGateway, "test_out_of_region", "Not here.")
	for _, tc := range []struct {
		name   string
		refuse error
		status int
		code   string
	}{
		{"admitted", nil, http.StatusOK, ""},
		{"a problem", outOfRegion, http.StatusBadGateway, "test_out_of_region"},
		{"another error", errors.New("no"), http.StatusBadGateway, "file_upload_service_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"e"`}}, "")
			var zone, host string
			check := func(z string, u *url.URL) error { zone, host = z, u.Host; return tc.refuse }
			f := newFUS(t, fixed(rec.URL+"/bucket/obj?X-Amz-Signature=abc", nil),
				upload.WithStorageHosts(rec.host()), upload.WithTargetCheck(check))
			srv := newHandler(t, f)
			resp := put(t, srv.Client(), srv.URL+uploadPath("up_1", 0), payload(1024), nil)
			defer resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "us01", zone, "the check learns the upload's zone")
			assert.Equal(t, rec.Listener.Addr().String(), host)
			if tc.code != "" {
				assert.Equal(t, tc.code, readProblem(t, resp).Code)
				assert.Zero(t, rec.count(), "storage got nothing")
			} else {
				assert.Equal(t, 1, rec.count())
			}
		})
	}
}

func TestWithTargetCheckNil(t *testing.T) {
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	_, err = upload.NewClient(map[string]string{"us01": "http://fus.internal"}, signer,
		upload.WithStorageHosts("s.example"), upload.WithTargetCheck(nil))
	assert.ErrorContains(t, err, "WithTargetCheck")
}
