package standin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awsExample is the presigned URL example of the AWS SigV4 documentation
// ("Authenticating Requests: Using Query Parameters").
var awsExample = S3{
	Endpoint:  "https://examplebucket.s3.amazonaws.com",
	AccessKey: "AKIAIOSFODNN7EXAMPLE",
	SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	Bucket:    "examplebucket",
	Now:       func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) },
}

func TestS3PresignAWSExample(t *testing.T) {
	// The example addresses the bucket by host (virtual-hosted style), so
	// it is signed below the bucket-less path.
	base, err := awsExample.URL()
	require.NoError(t, err)
	got, err := awsExample.presignURL(http.MethodGet, base, "/test.txt", nil, 86400*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "https://examplebucket.s3.amazonaws.com/test.txt"+
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256"+
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"+
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"+
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", got)

	// Every input is signed: changing any one changes the signature.
	sig := func(s S3, method, path string) string {
		base, err := s.URL()
		require.NoError(t, err)
		u, err := s.presignURL(method, base, path, nil, 86400*time.Second)
		require.NoError(t, err)
		return u[strings.LastIndex(u, "=")+1:]
	}
	other := awsExample
	other.Region = "eu-west-1"
	assert.NotEqual(t, "aeeed9bb", sig(other, "GET", "/test.txt")[:8], "region")
	assert.NotEqual(t, "aeeed9bb", sig(awsExample, "PUT", "/test.txt")[:8], "method")
	assert.NotEqual(t, "aeeed9bb", sig(awsExample, "GET", "/test.tx")[:8], "path")
}

func TestS3PresignPut(t *testing.T) {
	s := S3{Endpoint: "http://127.0.0.1:9000/", Bucket: "uploads", AccessKey: "AK", SecretKey: "SK",
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	raw, err := s.PresignPut("us01/a b!+é", 0, "", time.Minute)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "http://127.0.0.1:9000/uploads/us01/a%20b%21%2B%C3%A9?X-Amz-Algorithm="), raw)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "/uploads/us01/a b!+é", u.Path)
	assert.Equal(t, "/uploads/us01/a%20b%21%2B%C3%A9", u.EscapedPath(), "AWS escaping survives a round trip through url.URL")
	q := u.Query()
	assert.Equal(t, "AK/20260102/us-east-1/s3/aws4_request", q.Get("X-Amz-Credential"))
	assert.Equal(t, "20260102T030405Z", q.Get("X-Amz-Date"))
	assert.Equal(t, "60", q.Get("X-Amz-Expires"))
	assert.Equal(t, "host", q.Get("X-Amz-SignedHeaders"))
	assert.Len(t, q.Get("X-Amz-Signature"), 64)
	assert.False(t, q.Has("partNumber"))

	raw, err = s.PresignPut("us01/x", 3, "id/+=", time.Minute)
	require.NoError(t, err)
	assert.Contains(t, raw, "&partNumber=3&uploadId=id%2F%2B%3D&X-Amz-Signature=", "sorted after X-Amz-*, escaped per AWS")
	u, err = url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "id/+=", u.Query().Get("uploadId"))

	tls := S3{Endpoint: "https://s3.test:443", Region: "eu-west-1", Bucket: "b", AccessKey: "AK", SecretKey: "SK"}
	raw, err = tls.PresignPut("k", 0, "", time.Hour)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "https://s3.test/b/k?"), "a default port is not part of the host: %s", raw)
	assert.Contains(t, raw, "%2Feu-west-1%2Fs3%2F")
}

func TestS3Invalid(t *testing.T) {
	good := S3{Endpoint: "http://127.0.0.1:9000", Bucket: "b", AccessKey: "AK", SecretKey: "SK"}
	for name, c := range map[string]struct {
		mutate  func(*S3)
		object  string
		part    int
		id      string
		expires time.Duration
	}{
		"no bucket":         {func(s *S3) { s.Bucket = "" }, "k", 0, "", time.Minute},
		"no secret key":     {func(s *S3) { s.SecretKey = "" }, "k", 0, "", time.Minute},
		"relative endpoint": {func(s *S3) { s.Endpoint = "127.0.0.1:9000" }, "k", 0, "", time.Minute},
		"ftp endpoint":      {func(s *S3) { s.Endpoint = "ftp://h" }, "k", 0, "", time.Minute},
		"no object":         {func(*S3) {}, "", 0, "", time.Minute},
		"part 10001":        {func(*S3) {}, "k", 10001, "id", time.Minute},
		"part without id":   {func(*S3) {}, "k", 1, "", time.Minute},
		"expires > 7 days":  {func(*S3) {}, "k", 0, "", 8 * 24 * time.Hour},
		"expires < 1s":      {func(*S3) {}, "k", 0, "", time.Millisecond},
	} {
		s := good
		c.mutate(&s)
		_, err := s.PresignPut(c.object, c.part, c.id, c.expires)
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "SK", name)
		}
	}
	_, err := good.PresignPut("k", 10000, "id", 7*24*time.Hour)
	assert.NoError(t, err, "the limits themselves are valid")
}

// s3Double answers CreateMultipartUpload like S3 and counts the calls.
type s3Double struct {
	calls  atomic.Int32
	status int           // 0: 200
	body   string        // answer; an InitiateMultipartUploadResult when empty
	gate   chan struct{} // when set, answers wait until it is closed
	called chan struct{} // when set, told of each call (buffered)
}

func (d *s3Double) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := d.calls.Add(1)
	if d.called != nil {
		select {
		case d.called <- struct{}{}:
		default:
		}
	}
	if d.gate != nil {
		<-d.gate
	}
	if r.Method != http.MethodPost || r.URL.RawQuery != "uploads=" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AK/") ||
		!strings.Contains(r.Header.Get("Authorization"), "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=") ||
		r.Header.Get("X-Amz-Date") == "" || r.Header.Get("X-Amz-Content-Sha256") != emptySHA256 {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<Error><Code>MalformedRequest</Code></Error>`))
		return
	}
	if d.status != 0 {
		w.WriteHeader(d.status)
	}
	body := d.body
	if body == "" {
		body = `<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>` +
			strings.TrimPrefix(r.URL.Path, "/b/") + `</Key><UploadId>mp-` + string(rune('0'+n)) + `</UploadId></InitiateMultipartUploadResult>`
	}
	_, _ = w.Write([]byte(body))
}

func TestS3CreateMultipartUpload(t *testing.T) {
	for name, c := range map[string]struct {
		status int
		body   string
		want   string
		code   string
	}{
		"created":         {0, "", "mp-1", ""},
		"denied":          {403, `<Error><Code>AccessDenied</Code><Message>no</Message></Error>`, "", "AccessDenied"},
		"error in a 200":  {200, `<Error><Code>InternalError</Code></Error>`, "", "InternalError"},
		"not XML":         {500, `oops`, "", "unknown"},
		"no upload id":    {200, `<InitiateMultipartUploadResult></InitiateMultipartUploadResult>`, "", "NoUploadId"},
		"endless garbage": {200, "<a>" + strings.Repeat("x", 2*maxS3Answer), "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(&s3Double{status: c.status, body: c.body})
			defer srv.Close()
			s := S3{Endpoint: srv.URL, Bucket: "b", AccessKey: "AK", SecretKey: "SK"}
			id, err := s.CreateMultipartUpload(context.Background(), "us01/x")
			if c.want != "" {
				require.NoError(t, err)
				assert.Equal(t, c.want, id)
				return
			}
			require.Error(t, err)
			if c.code != "" {
				e, ok := err.(*S3Error)
				require.True(t, ok, "%v", err)
				assert.Equal(t, c.code, e.Code)
			}
		})
	}
}

// In S3 mode the FUS presigns for the bucket, and starts one multipart
// upload per upload id however many parts ask for it at once.
func TestFUSS3Mode(t *testing.T) {
	d := &s3Double{gate: make(chan struct{}), called: make(chan struct{}, 1)}
	srv := httptest.NewServer(d)
	defer srv.Close()
	fusKey := []byte(strings.Repeat("f", 32))
	fusV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	require.NoError(t, err)
	fusS, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	s3 := &S3{Endpoint: srv.URL, Bucket: "b", AccessKey: "AK", SecretKey: "SK"}
	fus, err := NewFUS(FUSConfig{Zone: "us02", Verifier: fusV, S3: s3})
	require.NoError(t, err)

	ask := func(path string) (int, *url.URL) {
		signed, err := fusS.SignURL(http.MethodGet, path, time.Minute)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		fus.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, signed, nil))
		if rec.Code != http.StatusOK {
			return rec.Code, nil
		}
		var a struct{ URL string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
		u, err := url.Parse(a.URL)
		require.NoError(t, err)
		return rec.Code, u
	}

	status, u := ask("/companies/2/projects/7/uploads/doc-1/url")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "/b/us02/2/7/doc-1", u.Path)
	assert.NotEmpty(t, u.Query().Get("X-Amz-Signature"))
	assert.Zero(t, d.calls.Load(), "a single PUT needs no multipart upload")

	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Go(func() {
			status, u := ask("/companies/2/projects/7/uploads/doc-2/url?part_number=" + string(rune('1'+i)))
			if assert.Equal(t, http.StatusOK, status) {
				assert.Equal(t, "/b/us02/2/7/doc-2", u.Path)
				assert.Equal(t, string(rune('1'+i)), u.Query().Get("partNumber"))
				ids[i] = u.Query().Get("uploadId")
			}
		})
	}
	<-d.called // a first part is creating the upload; the others queue behind it
	close(d.gate)
	wg.Wait()
	assert.Equal(t, []string{"mp-1", "mp-1", "mp-1", "mp-1"}, ids)
	assert.EqualValues(t, 1, d.calls.Load(), "one multipart upload for concurrent first parts")

	status, u = ask("/companies/2/projects/7/uploads/doc-3/url?part_number=1")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "mp-2", u.Query().Get("uploadId"), "another upload id, another multipart upload")

	status, _ = ask("/companies/2/projects/7/uploads/doc-1/url?part_number=0")
	assert.Equal(t, http.StatusBadRequest, status)

	_, err = NewFUS(FUSConfig{Zone: "us02", Verifier: fusV, S3: &S3{Endpoint: srv.URL}})
	assert.Error(t, err, "an incomplete S3 configuration is refused")
}

// A failed creation is a 502 problem naming S3's code, and the next part
// tries again.
func TestFUSS3ModeCreateFails(t *testing.T) {
	d := &s3Double{status: http.StatusForbidden, body: `<Error><Code>AccessDenied</Code></Error>`}
	srv := httptest.NewServer(d)
	defer srv.Close()
	fusKey := []byte(strings.Repeat("f", 32))
	fusV, err := hmacsig.NewVerifier(hmacsig.Keys{Current: fusKey})
	require.NoError(t, err)
	fusS, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	fus, err := NewFUS(FUSConfig{Zone: "us02", Verifier: fusV, S3: &S3{Endpoint: srv.URL, Bucket: "b", AccessKey: "AK", SecretKey: "SK"}})
	require.NoError(t, err)
	for range 2 {
		signed, err := fusS.SignURL(http.MethodGet, "/companies/2/projects/7/uploads/doc-1/url?part_number=1", time.Minute)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		fus.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, signed, nil))
		assert.Equal(t, http.StatusBadGateway, rec.Code)
		assert.Contains(t, rec.Body.String(), `"code":"storage_rejected"`)
		// Never the secret key ("SK"); the
		// random request ID, which may hold any two letters, aside.
		assert.NotContains(t, regexp.MustCompile(`"request_id":"[^"]*"`).ReplaceAllString(rec.Body.String(), ""), "SK")
	}
	assert.EqualValues(t, 2, d.calls.Load(), "a failure is not remembered")
}

func BenchmarkS3PresignPut(b *testing.B) {
	s := S3{Endpoint: "http://127.0.0.1:9000", Bucket: "uploads", AccessKey: "AK", SecretKey: "SK"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.PresignPut("us01/1/7/report-7", 2, "mp-1", time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
