package standin

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// Issue 12, hole 6: companies 1 and 4 both live in us01 and both upload
// "contract-1". Each object must survive with its own bytes; when the FUS
// call named only the upload id, company 4's upload overwrote company 1's.
func TestCompaniesOfOneZoneDoNotShareUploads(t *testing.T) {
	objects, objSigner, dir := newStore(t)
	store := httptest.NewServer(objects)
	defer store.Close()

	fusKey := []byte(strings.Repeat("f", 32))
	fusV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	require.NoError(t, err)
	fusS, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	fus, err := NewFUS(FUSConfig{Zone: "us01", Verifier: fusV, Objects: store.URL, Signer: objSigner})
	require.NoError(t, err)

	client, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, fusS,
		upload.WithFUSTransport(edge.Binding(fus)), upload.WithStorageHosts(storageHost(store)))
	require.NoError(t, err)
	us01 := zone.Zone{Name: "us01", WebBaseURL: "https://us01.example.com"}
	directory, err := zone.NewStaticDirectory(map[string]zone.Zone{"1": us01, "4": us01})
	require.NoError(t, err)
	uploadKey := []byte(strings.Repeat("u", 32))
	uploadV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	require.NoError(t, err)
	uploadS, err := hmacsig.NewSigner(uploadKey)
	require.NoError(t, err)
	h, err := upload.New(uploadV, directory, client)
	require.NoError(t, err)
	host := httptest.NewServer(h)
	defer host.Close()

	bodies := map[string][]byte{
		"1": bytes.Repeat([]byte("company one's contract "), 100),
		"4": bytes.Repeat([]byte("company four's overwrite "), 50),
	}
	for _, company := range []string{"1", "4"} {
		target, err := uploadS.SignURL(http.MethodPut, host.URL+"/rest/v2.1/companies/"+company+"/projects/7/uploads/contract-1", time.Minute)
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPut, target, bytes.NewReader(bodies[company]))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "company %s", company)
	}

	// Whatever the layout of the store, both uploads are in it.
	var stored [][]byte
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		stored = append(stored, b)
		return err
	}))
	assert.ElementsMatch(t, [][]byte{bodies["1"], bodies["4"]}, stored, "each company's contract-1 kept with its own bytes")

	// And each is its company's object.
	for company, want := range bodies {
		p := upload.Params{CompanyID: company, ProjectID: "7", UploadID: "contract-1"}
		got, err := objSigner.SignURL(http.MethodGet, store.URL+ObjectPath("us01", p), time.Minute)
		require.NoError(t, err)
		resp, err := http.Get(got)
		require.NoError(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, b.Bytes(), "company %s", company)
	}
}

// storageHost is how the storage host is told to allow srv as a target:
// plain http to its address.
func storageHost(srv *httptest.Server) string { return srv.URL }
