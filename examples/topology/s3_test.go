package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/examples/internal/peers"
	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In S3 mode the walkthrough's uploads land in a real MinIO: a single PUT
// as the object <zone>/<upload id>, parts in the multipart upload the
// zone's file upload service started, which the uploader completes.
func TestS3Mode(t *testing.T) {
	m := peers.StartMinIO(t)
	ctx := context.Background()
	core, err := minio.NewCore(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	require.NoError(t, err)
	const bucket = "cellgate"
	require.NoError(t, core.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}))
	tp := start(t, false, func(c *config) {
		c.s3 = &standin.S3{Endpoint: m.URL, Bucket: bucket, AccessKey: m.AccessKey, SecretKey: m.SecretKey}
	})

	stored := func(t *testing.T, object string) [32]byte {
		t.Helper()
		obj, _, _, err := core.GetObject(ctx, bucket, object, minio.GetObjectOptions{})
		require.NoError(t, err)
		defer obj.Close()
		h := sha256.New()
		_, err = io.Copy(h, obj)
		require.NoError(t, err)
		return [32]byte(h.Sum(nil))
	}
	uploadURL := func(company, id string, part int) string {
		u := tp.urls["storage"] + "/rest/v2.1/companies/" + company + "/projects/7/uploads/" + id
		if part > 0 {
			u += "/parts/" + strconv.Itoa(part)
		}
		return tp.sign("upload", http.MethodPut, u, time.Minute)
	}

	t.Run("no stand-in object store; the banner names the bucket", func(t *testing.T) {
		assert.NotContains(t, tp.urls, "objects")
		assert.Contains(t, tp.banner.String(), m.URL+"/"+bucket)
		assert.Contains(t, tp.banner.String(), "aws --endpoint-url "+m.URL+" s3 cp s3://"+bucket+"/us01/1/7/report-1 -")
	})

	t.Run("single PUT stored byte for byte", func(t *testing.T) {
		data := random(t, 1<<20+7)
		resp, body := do(t, nil, http.MethodPut, uploadURL("2", "single-1", 0), nil, bytes.NewReader(data))
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		assert.Equal(t, sha256.Sum256(data), stored(t, "us02/2/7/single-1"), "company 2's upload lands in us02's prefix")
		info, err := core.StatObject(ctx, bucket, "us02/2/7/single-1", minio.StatObjectOptions{})
		require.NoError(t, err)
		assert.Equal(t, `"`+info.ETag+`"`, resp.Header.Get("ETag"), "storage's ETag, quotes kept")
	})

	t.Run("parts land in one multipart upload, which completes", func(t *testing.T) {
		parts := [][]byte{random(t, 5<<20+1), random(t, 70_001)} // S3's minimum for all but the last
		var complete []minio.CompletePart
		for i, p := range parts {
			resp, body := do(t, nil, http.MethodPut, uploadURL("3", "multi-1", i+1), nil, bytes.NewReader(p))
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
			complete = append(complete, minio.CompletePart{PartNumber: i + 1, ETag: resp.Header.Get("ETag")})
		}
		// The uploader's part: find the upload the FUS started, complete it.
		uploads, err := core.ListMultipartUploads(ctx, bucket, "uk01/3/7/multi-1", "", "", "", 10)
		require.NoError(t, err)
		require.Len(t, uploads.Uploads, 1, "one multipart upload for both parts")
		id := uploads.Uploads[0].UploadID
		listed, err := core.ListObjectParts(ctx, bucket, "uk01/3/7/multi-1", id, 0, 10)
		require.NoError(t, err)
		require.Len(t, listed.ObjectParts, 2)
		for i, p := range listed.ObjectParts {
			assert.Equal(t, i+1, p.PartNumber)
			assert.EqualValues(t, len(parts[i]), p.Size)
			assert.Equal(t, strings.Trim(complete[i].ETag, `"`), strings.Trim(p.ETag, `"`))
		}
		_, err = core.CompleteMultipartUpload(ctx, bucket, "uk01/3/7/multi-1", id, complete, minio.PutObjectOptions{})
		require.NoError(t, err)
		assert.Equal(t, sha256.Sum256(append(parts[0], parts[1]...)), stored(t, "uk01/3/7/multi-1"))
	})

	t.Run("a tampered upload URL never reaches storage", func(t *testing.T) {
		signed := uploadURL("1", "bad-1", 0)
		resp, body := do(t, nil, http.MethodPut, signed[:len(signed)-1]+flip(signed[len(signed)-1]), nil, bytes.NewReader([]byte("data")))
		assert.Equal(t, "signature_mismatch", problemCode(t, resp, body))
		_, err := core.StatObject(ctx, bucket, "us01/1/7/bad-1", minio.StatObjectOptions{})
		assert.Error(t, err)
	})

	t.Run("credentials and presigns never printed", func(t *testing.T) {
		for _, out := range []string{tp.banner.String(), tp.logs.String()} {
			assert.NotContains(t, out, m.SecretKey)
			assert.NotContains(t, out, m.AccessKey)
			assert.NotContains(t, out, "X-Amz-")
		}
		assert.Contains(t, tp.logs.String(), "company=3", "the access log does work")
	})
}

// S3 mode refuses to start without what it needs.
func TestS3ModeIncomplete(t *testing.T) {
	cfg := config{host: "127.0.0.1", ports: map[string]int{}, keys: t.TempDir(),
		s3: &standin.S3{Endpoint: "http://127.0.0.1:9", Bucket: "b"}} // no keys
	err := run(context.Background(), cfg, func(started) { t.Error("started") })
	assert.ErrorContains(t, err, "access key")
}
