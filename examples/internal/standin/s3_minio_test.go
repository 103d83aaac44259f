package standin

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/examples/internal/peers"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startMinIO runs MinIO with an empty bucket and returns a presigner for
// it and a minio-go client to check what landed.
func startMinIO(t *testing.T) (*S3, *minio.Core) {
	t.Helper()
	m := peers.StartMinIO(t)
	c, err := minio.NewCore(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	require.NoError(t, err)
	require.NoError(t, c.MakeBucket(context.Background(), "uploads", minio.MakeBucketOptions{}))
	return &S3{Endpoint: m.URL, Bucket: "uploads", AccessKey: m.AccessKey, SecretKey: m.SecretKey}, c
}

func send(t *testing.T, method, u string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK && method == http.MethodPut {
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	return resp.StatusCode, string(b)
}

// MinIO honours what S3 presigns: PUT and GET of an object, a part of a
// multipart upload that S3 started; it refuses an expired or tampered URL.
func TestS3MinIO(t *testing.T) {
	s, c := startMinIO(t)
	ctx := context.Background()
	data := make([]byte, 100_003)
	_, _ = rand.Read(data)

	put, err := s.PresignPut("us01/doc 1+é", 0, "", time.Minute)
	require.NoError(t, err)
	status, etag := send(t, http.MethodPut, put, data)
	require.Equal(t, http.StatusOK, status, etag)
	obj, _, _, err := c.GetObject(ctx, "uploads", "us01/doc 1+é", minio.GetObjectOptions{})
	require.NoError(t, err)
	got, err := io.ReadAll(obj)
	obj.Close()
	require.NoError(t, err)
	assert.Equal(t, data, got, "stored byte for byte under the escaped key")

	get, err := s.Presign(http.MethodGet, "us01/doc 1+é", nil, time.Minute)
	require.NoError(t, err)
	status, body := send(t, http.MethodGet, get, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, string(data), body)

	id, err := s.CreateMultipartUpload(ctx, "us01/multi")
	require.NoError(t, err)
	part, err := s.PresignPut("us01/multi", 2, id, time.Minute)
	require.NoError(t, err)
	status, etag = send(t, http.MethodPut, part, []byte("second part"))
	require.Equal(t, http.StatusOK, status, etag)
	parts, err := c.ListObjectParts(ctx, "uploads", "us01/multi", id, 0, 10)
	require.NoError(t, err)
	require.Len(t, parts.ObjectParts, 1)
	assert.Equal(t, 2, parts.ObjectParts[0].PartNumber)
	assert.EqualValues(t, len("second part"), parts.ObjectParts[0].Size)
	assert.Equal(t, strings.Trim(etag, `"`), strings.Trim(parts.ObjectParts[0].ETag, `"`))

	past := *s
	past.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	expired, err := past.PresignPut("us01/late", 0, "", time.Minute)
	require.NoError(t, err)
	status, body = send(t, http.MethodPut, expired, data)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "<Code>AccessDenied</Code>")

	status, body = send(t, http.MethodPut, strings.Replace(put, "doc%201", "doc%202", 1), data)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "<Code>SignatureDoesNotMatch</Code>")

	wrong := *s
	wrong.SecretKey = "not-the-secret"
	_, err = wrong.CreateMultipartUpload(ctx, "us01/x")
	var e *S3Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusForbidden, e.Status)
	assert.Equal(t, "SignatureDoesNotMatch", e.Code)
	noBucket := *s
	noBucket.Bucket = "nope"
	_, err = noBucket.CreateMultipartUpload(ctx, "us01/x")
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "NoSuchBucket", e.Code)
}
