package uploadpeers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/examples/internal/peers"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
)

const azContainer = "uploads"

// azure is an Azurite peer with a container.
type azure struct {
	*peers.Azurite
	cred *blob.SharedKeyCredential
	host string
}

func startAzure(t testing.TB) *azure {
	t.Helper()
	a := peers.StartAzurite(t)
	cred, err := blob.NewSharedKeyCredential(a.Account, a.Key)
	require.NoError(t, err)
	c, err := container.NewClientWithSharedKeyCredential(a.URL+"/"+azContainer, cred, nil)
	require.NoError(t, err)
	_, err = c.Create(context.Background(), nil)
	require.NoError(t, err)
	u, err := url.Parse(a.URL)
	require.NoError(t, err)
	return &azure{Azurite: a, cred: cred, host: u.Host}
}

// sasURL returns the blob's URL with a create+write SAS valid from start
// to expiry, plus extra query parameters (comp=block&blockid=...).
func (a *azure) sasURL(t testing.TB, name string, start, expiry time.Time, extra string) string {
	t.Helper()
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     start,
		ExpiryTime:    expiry,
		Permissions:   (&sas.BlobPermissions{Create: true, Write: true}).String(),
		ContainerName: azContainer,
		BlobName:      name,
	}.SignWithSharedKey(a.cred)
	require.NoError(t, err)
	u := a.URL + "/" + azContainer + "/" + name + "?"
	if extra != "" {
		u += extra + "&"
	}
	return u + qp.Encode()
}

func (a *azure) blobClient(t testing.TB, name string) *blockblob.Client {
	t.Helper()
	c, err := blockblob.NewClientWithSharedKeyCredential(a.URL+"/"+azContainer+"/"+name, a.cred, nil)
	require.NoError(t, err)
	return c
}

func (a *azure) download(t testing.TB, name string) []byte {
	t.Helper()
	resp, err := a.blobClient(t, name).DownloadStream(context.Background(), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, resp.Body)
	require.NoError(t, err)
	return buf.Bytes()
}

func blockID(part int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%05d", part))
}

// Put Blob with x-ms-blob-type from FUS: Azure answers 201 with an ETag.
func TestAzuritePutBlob(t *testing.T) {
	a := startAzure(t)
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		id := p.UploadID
		return uploadtest.Answer{
			URL:     a.sasURL(t, id, time.Now().Add(-time.Minute), time.Now().Add(15*time.Minute), ""),
			Headers: map[string]string{"x-ms-blob-type": "BlockBlob"},
		}, nil
	}, upload.WithStorageHosts("http://"+a.host))
	srv := newHandler(t, f)
	body := payload(2<<20 + 5)
	resp := put(t, srv.Client(), srv.URL+uploadPath("doc_1", 0), body, nil)
	ans := readAnswer(t, resp)
	assert.True(t, strings.HasPrefix(ans.ETag, `"`), "Put Blob's ETag kept: %q", ans.ETag)
	assert.Equal(t, ans.ETag, resp.Header.Get("ETag"))
	assert.Equal(t, body, a.download(t, "doc_1"))
}

// Put Block answers 201 without an ETag; the parts are then committed with
// Put Block List through the SDK.
func TestAzuritePutBlockAndBlockList(t *testing.T) {
	a := startAzure(t)
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		id, part := p.UploadID, p.PartNumber
		extra := "comp=block&blockid=" + url.QueryEscape(blockID(part))
		return uploadtest.Answer{URL: a.sasURL(t, id, time.Now().Add(-time.Minute), time.Now().Add(15*time.Minute), extra)}, nil
	}, upload.WithStorageHosts("http://"+a.host))
	srv := newHandler(t, f)

	whole := payload(3<<20 + 11)
	chunks := [][]byte{whole[:1<<20], whole[1<<20 : 2<<20], whole[2<<20:]}
	var ids []string
	for i, c := range chunks {
		ans := readAnswer(t, put(t, srv.Client(), srv.URL+uploadPath("movie", i+1), c, nil))
		assert.Equal(t, answer{ETag: "", Size: int64(len(c)), PartNumber: i + 1}, ans)
		ids = append(ids, blockID(i+1))
	}
	_, err := a.blobClient(t, "movie").CommitBlockList(context.Background(), ids, nil)
	require.NoError(t, err)
	assert.Equal(t, whole, a.download(t, "movie"))
}

// SAS failures are storage_rejected with the storage's own code. Azurite
// says AuthorizationFailure for an expired SAS where Azure says
// AuthenticationFailed, and answers a missing x-ms-blob-type with a bare
// 400 (Azure: MissingRequiredHeader); the test pins what the peer says.
func TestAzuriteRejections(t *testing.T) {
	a := startAzure(t)
	blobType := map[string]string{"x-ms-blob-type": "BlockBlob"}
	now := time.Now()
	tests := []struct {
		name    string
		url     string
		headers map[string]string
		status  int
		code    string
	}{
		{"expired SAS", a.sasURL(t, "expired", now.Add(-2*time.Hour), now.Add(-time.Hour), ""), blobType, 403, "AuthorizationFailure"},
		{"tampered signature", tamperSAS(a.sasURL(t, "tampered", now.Add(-time.Minute), now.Add(time.Hour), "")), blobType, 403, "AuthorizationFailure"},
		{"no blob type from FUS", a.sasURL(t, "untyped", now.Add(-time.Minute), now.Add(time.Hour), ""), nil, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFUS(t, fixed(tc.url, tc.headers), upload.WithStorageHosts("http://"+a.host))
			srv := newHandler(t, f)
			resp := put(t, srv.Client(), srv.URL+uploadPath("x", 0), payload(100), nil)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			p := readProblem(t, resp)
			assert.Equal(t, "storage_rejected", p.Code)
			assert.Contains(t, p.Detail, fmt.Sprintf("status %d", tc.status))
			if tc.code != "" {
				assert.Contains(t, p.Detail, "code "+tc.code)
			}
			assert.NotContains(t, p.Detail, "sig")
		})
	}
}

// tamperSAS changes one character of the SAS signature.
func tamperSAS(u string) string {
	parsed, _ := url.Parse(u)
	q := parsed.Query()
	sig := []byte(q.Get("sig"))
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	q.Set("sig", string(sig))
	parsed.RawQuery = q.Encode()
	return parsed.String()
}
