package upload_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
)

// The request shape storage gets: GCS has no local emulator that verifies
// V4 signed URLs, so its contract is checked here. The presigned URL is
// used as given, the FUS headers and the client's integrity headers are
// sent, the length is exact, and nothing else of the client's reaches
// storage.
func TestHandlerRequestShape(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"d41d8cd98f00b204e9800998ecf8427e"`}, "X-Goog-Hash": {"crc32c=AAAAAA=="}}, "")
	presigned := rec.URL + "/bucket/a%20b/obj.pdf?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%2F20260101%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20260101T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=content-type%3Bhost%3Bx-goog-meta-origin&X-Goog-Signature=abcdef"
	f := newFUS(t, fixed(presigned, map[string]string{"Content-Type": "application/pdf", "x-goog-meta-origin": "cellgate"}), upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f)

	body := payload(1<<20 + 17)
	resp := put(t, srv.Client(), srv.URL+uploadPath("up_1-A", 0), body, http.Header{
		"Content-Type":          {"text/plain"}, // FUS names the signed one; it wins
		"Content-Md5":           {"abc=="},
		"X-Amz-Checksum-Sha256": {"xyz="},
		"Authorization":         {"Bearer client-secret"},
		"Cookie":                {"session=secret"},
		"X-Goog-Meta-Evil":      {"unsigned"},
		"Expect":                {"100-continue"},
	})
	a := readAnswer(t, resp)
	assert.Equal(t, `"d41d8cd98f00b204e9800998ecf8427e"`, resp.Header.Get("ETag"), "ETag kept with its quotes")
	assert.Equal(t, answer{ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, Size: int64(len(body))}, a)

	got := <-rec.done
	assert.Equal(t, http.MethodPut, got.Method)
	assert.Equal(t, strings.TrimPrefix(presigned, rec.URL), got.RequestURI, "the presigned URL is used byte for byte")
	assert.Equal(t, int64(len(body)), got.ContentLength)
	assert.Empty(t, got.TransferEncoding, "never chunked")
	assert.Equal(t, sha(body), got.SHA256)
	assert.Equal(t, "application/pdf", got.Header.Get("Content-Type"))
	assert.Equal(t, "cellgate", got.Header.Get("X-Goog-Meta-Origin"))
	assert.Equal(t, "abc==", got.Header.Get("Content-Md5"))
	assert.Equal(t, "xyz=", got.Header.Get("X-Amz-Checksum-Sha256"))
	for _, h := range []string{"Authorization", "Cookie", "X-Goog-Meta-Evil"} {
		assert.Empty(t, got.Header.Values(h), "client header %s must not reach storage", h)
	}
}

// Without a Content-Type from FUS, the client's is forwarded: a presign
// that signed another one then fails at storage, as it must.
func TestHandlerForwardsClientContentType(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, nil, "")
	f := newFUS(t, fixed(rec.URL+"/b/o?sig=1", nil), upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f)
	readAnswer(t, put(t, srv.Client(), srv.URL+uploadPath("u", 0), []byte("hello"), http.Header{"Content-Type": {"image/png"}}))
	assert.Equal(t, "image/png", (<-rec.done).Header.Get("Content-Type"))
}

func TestHandlerPartAndAzureBlock(t *testing.T) {
	// Azure's Put Block answers 201 without an ETag.
	rec := newRecorder(t, http.StatusCreated, http.Header{"Content-Md5": {"x"}}, "")
	var gotPart int
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		gotPart = p.PartNumber
		return uploadtest.Answer{URL: rec.URL + "/c/b?comp=block&blockid=AAAA&sig=s", Headers: map[string]string{"x-ms-blob-type": "BlockBlob"}}, nil
	}, upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f)
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 9999), []byte("part"), nil)
	assert.Equal(t, answer{ETag: "", Size: 4, PartNumber: 9999}, readAnswer(t, resp))
	assert.Empty(t, resp.Header.Values("ETag"))
	assert.Equal(t, 9999, gotPart)
	assert.Equal(t, "BlockBlob", (<-rec.done).Header.Get("X-Ms-Blob-Type"))
}

// Every refusal before streaming: the right code, and storage never called;
// refusals of the request itself never call FUS either.
func TestHandlerRefusals(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, nil, "")
	good := fixed(rec.URL+"/b/o?X-Amz-Signature=s3cr3t", nil)
	fail := func(err error) uploadtest.Presign {
		return func(context.Context, upload.Params) (uploadtest.Answer, error) { return uploadtest.Answer{}, err }
	}

	tests := []struct {
		name      string
		path      string
		size      int // -1: chunked
		presign   uploadtest.Presign
		status    int
		code      string
		fusCalled bool
	}{
		{"company with leading zero", "/rest/v2.1/companies/042/projects/7/uploads/u", 1, good, 400, "company_invalid", false},
		{"project not decimal", "/rest/v2.1/companies/42/projects/x7/uploads/u", 1, good, 400, "project_invalid", false},
		{"upload id with a dot", uploadPath("a.b", 0), 1, good, 400, "upload_id_invalid", false},
		{"upload id too long", uploadPath(strings.Repeat("a", 129), 0), 1, good, 400, "upload_id_invalid", false},
		{"part 0", uploadPath("u", 0) + "/parts/0", 1, good, 400, "part_number_invalid", false},
		{"part 10001", uploadPath("u", 10001), 1, good, 400, "part_number_invalid", false},
		{"part with leading zero", uploadPath("u", 0) + "/parts/01", 1, good, 400, "part_number_invalid", false},
		{"part not a number", uploadPath("u", 0) + "/parts/x", 1, good, 400, "part_number_invalid", false},
		{"chunked", uploadPath("u", 0), -1, good, 411, "length_required", false},
		{"too large", uploadPath("u", 0), 1025, good, 413, "upload_too_large", false},
		{"FUS 404", uploadPath("u", 0), 1, fail(uploadtest.ErrUnknown), 404, "upload_unknown", true},
		{"FUS 409", uploadPath("u", 3), 1, fail(uploadtest.ErrConflict), 409, "upload_conflict", true},
		{"FUS 500", uploadPath("u", 0), 1, fail(errors.New("boom")), 502, "file_upload_service_unavailable", true},
		{"FUS plain http to another host", uploadPath("u", 0), 1, fixed("http://169.254.169.254/latest?x=1", nil), 502, "file_upload_service_unavailable", true},
		{"FUS URL with credentials", uploadPath("u", 0), 1, fixed("https://user:pw@storage.example/b", nil), 502, "file_upload_service_unavailable", true},
		{"FUS names Content-Length", uploadPath("u", 0), 1, fixed(rec.URL+"/b", map[string]string{"content-length": "1"}), 502, "file_upload_service_unavailable", true},
		{"FUS header with newline", uploadPath("u", 0), 1, fixed(rec.URL+"/b", map[string]string{"x-ms-meta": "a\r\nInjected: 1"}), 502, "file_upload_service_unavailable", true},
		{"FUS empty URL", uploadPath("u", 0), 1, fixed("", nil), 502, "file_upload_service_unavailable", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFUS(t, tc.presign, upload.WithStorageHosts(rec.host()))
			srv := newHandler(t, f, upload.WithMaxSize(1024))
			var body io.Reader = strings.NewReader(strings.Repeat("x", max(tc.size, 0)))
			if tc.size < 0 {
				body = io.MultiReader(strings.NewReader("chunk")) // unknown length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPut, srv.URL+tc.path, body)
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			p := readProblem(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, tc.fusCalled, f.Calls.Load() > 0, "FUS called")
			assert.Zero(t, rec.count(), "storage must not be called")
			assert.NotContains(t, p.Detail, "169.254")
		})
	}
}

// Storage errors become storage_rejected naming the storage's code, never
// its URL or message.
func TestHandlerStorageRejected(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		inCode string
	}{
		{"S3 expired", 403, nil, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><Key>secret/key</Key></Error>`, "AccessDenied"},
		{"Azure header code", 403, http.Header{"X-Ms-Error-Code": {"AuthenticationFailed"}}, `<Error><Code>Other</Code></Error>`, "AuthenticationFailed"},
		{"GCS expired", 400, nil, `<Error><Code>ExpiredToken</Code><Message>x</Message></Error>`, "ExpiredToken"},
		{"code with markup is dropped", 403, nil, `<Error><Code>a b&lt;script&gt;</Code></Error>`, ""},
		{"not XML", 500, nil, `oops`, ""},
		{"redirect is not success", 307, http.Header{"Location": {"https://elsewhere.example/"}}, ``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, tc.status, tc.header, tc.body)
			f := newFUS(t, fixed(rec.URL+"/bucket/key?X-Amz-Signature=s3cr3t", nil), upload.WithStorageHosts(rec.host()))
			srv := newHandler(t, f)
			resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), []byte("data"), nil)
			p := readProblem(t, resp)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.Equal(t, "storage_rejected", p.Code)
			assert.Contains(t, p.Detail, fmt.Sprintf("status %d", tc.status))
			if tc.inCode != "" {
				assert.Contains(t, p.Detail, "code "+tc.inCode)
			} else {
				assert.NotContains(t, p.Detail, "code")
			}
			for _, secret := range []string{"s3cr3t", "bucket", "127.0.0.1", "expired", "script", "elsewhere"} {
				assert.NotContains(t, p.Detail, secret)
			}
		})
	}
}

// With Expect: 100-continue, a refused upload is answered without 100
// Continue, so the client never sends its bytes; an accepted one gets
// 100 Continue only once storage asked for the body.
func TestHandlerExpectContinue(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"e"`}}, "")
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		id := p.UploadID
		if id == "unknown" {
			return uploadtest.Answer{}, uploadtest.ErrUnknown
		}
		return uploadtest.Answer{URL: rec.URL + "/b/o"}, nil
	}, upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f)

	for _, tc := range []struct {
		id       string
		first    string
		sendBody bool
		final    string
	}{
		{"unknown", "HTTP/1.1 404 Not Found", false, ""},
		{"known", "HTTP/1.1 100 Continue", true, "HTTP/1.1 200 OK"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", uploadPath(tc.id, 0))
			br := bufio.NewReader(conn)
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, tc.first, strings.TrimSpace(line))
			if !tc.sendBody {
				return
			}
			for line != "\r\n" { // the rest of the 100 Continue
				line, err = br.ReadString('\n')
				require.NoError(t, err)
			}
			io.WriteString(conn, "hello")
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, sha([]byte("hello")), (<-rec.done).SHA256)
		})
	}
}

// A zero-length upload goes out with Content-Length: 0 and no chunking,
// whether it came over HTTP/1 or HTTP/2 (where its body is not
// http.NoBody).
func TestHandlerZeroLength(t *testing.T) {
	for _, proto := range []int{1, 2} {
		t.Run(fmt.Sprintf("HTTP/%d", proto), func(t *testing.T) {
			rec := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"d41d8cd98f00b204e9800998ecf8427e"`}}, "")
			f := newFUS(t, fixed(rec.URL+"/b/empty", nil), upload.WithStorageHosts(rec.host()))
			h, err := upload.NewHandler(f.Client)
			require.NoError(t, err)
			var gotProto int
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotProto = r.ProtoMajor
				mount(h).ServeHTTP(w, r)
			}))
			srv.EnableHTTP2 = proto == 2
			srv.StartTLS()
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}

			req, err := http.NewRequest(http.MethodPut, srv.URL+uploadPath("empty", 0), strings.NewReader(""))
			require.NoError(t, err)
			req.ContentLength = 0
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, answer{ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, Size: 0}, readAnswer(t, resp))
			assert.Equal(t, proto, gotProto)

			got := <-rec.done
			assert.Equal(t, int64(0), got.ContentLength)
			assert.Equal(t, []string{"0"}, got.Header.Values("Content-Length"))
			assert.Empty(t, got.TransferEncoding)
			assert.Zero(t, got.Size)
		})
	}
}

// A client that stops sending is cut off after the idle timeout with 408,
// and storage sees its PUT aborted rather than completed.
func TestHandlerClientIdle(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, nil, "")
	f := newFUS(t, fixed(rec.URL+"/b/o", nil), upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f, upload.WithIdleTimeout(150*time.Millisecond))

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", uploadPath("u", 0))
	io.WriteString(conn, strings.Repeat("x", 1000)) // then nothing
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Equal(t, "upload_timeout", readProblem(t, resp).Code)
	got := <-rec.done
	assert.Error(t, got.ReadErr, "storage must see a broken body, not a complete one")
	assert.Less(t, got.Size, int64(100000))
}

// Storage that takes nothing and answers nothing is abandoned after the
// idle timeout with 504.
func TestHandlerStorageIdle(t *testing.T) {
	release := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer stalled.Close()
	defer close(release)
	f := newFUS(t, fixed(stalled.URL+"/b/o", nil), upload.WithStorageHosts("http://"+stalled.Listener.Addr().String()))
	srv := newHandler(t, f, upload.WithIdleTimeout(150*time.Millisecond))
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(4096), nil)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "storage_timeout", readProblem(t, resp).Code)
}

func TestNewHandlerConfigErrors(t *testing.T) {
	_, err := upload.NewHandler(nil)
	assert.Error(t, err)
	f := newFUS(t, fixed("https://s.example/", nil), upload.WithStorageHosts("s.example"))
	_, err = upload.NewHandler(f.Client, upload.WithIdleTimeout(-time.Second))
	assert.Error(t, err)
	_, err = upload.NewHandler(f.Client, upload.WithMaxSize(-1))
	assert.Error(t, err)
}

// storageFunc is a storage transport in a function, for failures that a
// real peer cannot be made to produce on cue.
type storageFunc func(*http.Request) (*http.Response, error)

func (f storageFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A client that leaves while the PUT waits on storage is a 499 in the log,
// not a storage failure: storage_unavailable would page whoever runs the
// storage for every impatient client.
func TestHandlerClientGoneDuringPut(t *testing.T) {
	f := newFUS(t, fixed("https://storage.example/b/o?X-Amz-Signature=s", nil), upload.WithStorageHosts("storage.example"))
	ctx, leave := context.WithCancel(context.Background())
	defer leave()
	h, err := upload.NewHandler(f.Client, upload.WithStorageTransport(storageFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		leave() // before storage has asked for a byte of the body
		<-r.Context().Done()
		return nil, r.Context().Err()
	})))
	require.NoError(t, err)

	req := httptest.NewRequestWithContext(ctx, http.MethodPut, uploadPath("u", 0), strings.NewReader("hello"))
	rec := httptest.NewRecorder()
	mount(h).ServeHTTP(rec, req)
	assert.Equal(t, 499, rec.Code)
	assert.Contains(t, rec.Body.String(), `"client_closed_request"`)
}
