package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/uploadrig"

	"github.com/cellgate/cellgate/internal/testrig/heapwatch"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/internal/peers"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
	"github.com/cellgate/cellgate/zone"
)

const bucket = "uploads"

// storageStack is the upload handler (the storage host's core) in front of
// a real MinIO, with an in-process file upload service presigning PUTs.
type storageStack struct {
	minio    *peers.MinIO
	client   *minio.Client
	front    *httptest.Server
	handler  http.Handler // what front serves
	fusCalls atomic.Int64
}

func newStorageStack(t *testing.T, opts ...upload.HandlerOption) *storageStack {
	t.Helper()
	s := &storageStack{minio: peers.StartMinIO(t)}
	var err error
	// The region is given, so a presign is arithmetic: without it minio-go
	// asks MinIO for the bucket's location first, and 100 concurrent
	// presigns on a loaded machine outlasted the file upload service
	// timeout (502 file_upload_service_unavailable for one upload).
	s.client, err = minio.New(s.minio.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.minio.AccessKey, s.minio.SecretKey, ""), Region: "us-east-1"})
	require.NoError(t, err)
	require.NoError(t, s.client.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}))

	key := bytes.Repeat([]byte("f"), 32)
	verifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	require.NoError(t, err)
	signer, err := hmacsig.NewSigner(key)
	require.NoError(t, err)
	presign := func(ctx context.Context, p upload.Params) (uploadtest.Answer, error) {
		s.fusCalls.Add(1)
		u, err := s.client.PresignedPutObject(ctx, bucket, p.UploadID, 15*time.Minute)
		if err != nil {
			return uploadtest.Answer{}, err
		}
		return uploadtest.Answer{URL: u.String()}, nil
	}
	storage := &http.Transport{ExpectContinueTimeout: time.Second, MaxIdleConnsPerHost: 200}
	t.Cleanup(storage.CloseIdleConnections)
	fusHandler, err := uploadtest.NewFUS(verifier, presign)
	require.NoError(t, err)
	fus, err := upload.NewClient(map[string]string{"us01": "http://fus.us01.internal"}, signer,
		upload.WithFUSTransport(edge.Binding(fusHandler)), upload.WithStorageHosts("http://"+s.minio.Endpoint))
	require.NoError(t, err)
	h, err := upload.NewHandler(fus, append([]upload.HandlerOption{upload.WithStorageTransport(storage)}, opts...)...)
	require.NoError(t, err)
	us01 := zone.Zone{Name: "us01", WebBaseURL: "https://us01.example.com"}
	mux := http.NewServeMux()
	mux.Handle(upload.PatternUpload, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(zone.ContextWithZone(r.Context(), us01)))
	}))
	s.handler = mux
	s.front = httptest.NewServer(mux)
	t.Cleanup(s.front.Close)
	t.Cleanup(s.front.Client().CloseIdleConnections)
	return s
}

func uploadURL(front, id string) string {
	return front + "/rest/v2.1/companies/42/projects/7/uploads/" + id
}

// put uploads body as id and returns what the client saw.
func (s *storageStack) put(t *testing.T, id string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, uploadURL(s.front.URL, id), bytes.NewReader(body))
	require.NoError(t, err)
	start := time.Now()
	resp, err := s.front.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return readAnswer(resp, start)
}

func readAnswer(resp *http.Response, start time.Time) answer {
	a := answer{status: resp.StatusCode, retry: resp.Header.Get("Retry-After")}
	a.body, a.readErr = io.ReadAll(resp.Body)
	a.took = time.Since(start)
	if resp.Header.Get("Content-Type") == edge.ContentTypeProblem {
		var p struct{ Code string }
		_ = json.Unmarshal(a.body, &p)
		a.code = p.Code
	}
	return a
}

// stored returns the SHA-256 of an object, or "" when there is none.
func (s *storageStack) stored(t *testing.T, id string) string {
	t.Helper()
	obj, err := s.client.GetObject(context.Background(), bucket, id, minio.GetObjectOptions{})
	require.NoError(t, err)
	defer obj.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return ""
		}
		require.NoError(t, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The upload rig's deterministic bodies and their hashes.
var (
	payload = uploadrig.Payload
	shaOf   = uploadrig.SHA
)

// rawPut starts a PUT of declared bytes on a raw connection, sends first,
// and returns the connection.
func rawPut(t *testing.T, front, id string, declared int, first []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", front[len("http://"):])
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT /rest/v2.1/companies/42/projects/7/uploads/%s HTTP/1.1\r\nHost: storage\r\nContent-Length: %d\r\n\r\n", id, declared)
	_, err = conn.Write(first)
	require.NoError(t, err)
	return conn
}

// MinIO killed mid-upload: the client gets 502 storage_unavailable and
// nothing is stored.
func TestStorageKilledMidUpload(t *testing.T) {
	checkLeaks(t)
	s := newStorageStack(t)
	const declared = 8 << 20
	conn := rawPut(t, s.front.URL, "killed", declared, payload(1<<20))
	// The client keeps sending while storage dies.
	answered := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() {
		defer trickle.Done()
		chunk := payload(16 << 10)
		for sent := 1 << 20; sent < declared; sent += len(chunk) {
			select {
			case <-answered:
				return
			case <-time.After(5 * time.Millisecond): // a slow client's pace
			}
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	}()
	eventually(t, 10*time.Second, "the PUT reached storage", func() bool { return s.fusCalls.Load() == 1 })
	start := time.Now()
	require.True(t, s.minio.Kill(5*time.Second), "MinIO did not exit")
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	close(answered)
	require.NoError(t, err)
	a := readAnswer(resp, start)
	resp.Body.Close()
	trickle.Wait()
	assert.Equal(t, http.StatusBadGateway, a.status)
	assert.Equal(t, "storage_unavailable", a.code)
	assert.NotEmpty(t, a.retry)
	assert.Less(t, a.took, testwait.Scale(10*time.Second), "answered at the kill, not at the idle timeout")
	_, err = os.Stat(filepath.Join(s.minio.Dir, bucket, "killed"))
	assert.True(t, os.IsNotExist(err), "nothing stored of a cut upload (%v)", err)
	row(t, "storage killed mid-upload (MinIO SIGKILL)", "502 storage_unavailable + Retry-After, nothing stored", a.String()+" after the kill, object absent")
}

// MinIO paused (SIGSTOP) with uploads in flight, then resumed (SIGCONT):
// every upload completes and its bytes are identical.
func TestStoragePausedAndResumed(t *testing.T) {
	checkLeaks(t)
	s := newStorageStack(t, upload.WithIdleTimeout(20*time.Second))
	body := payload(2 << 20)
	require.NoError(t, s.minio.Pause())
	paused := true
	defer func() {
		if paused {
			s.minio.Resume()
		}
	}()
	const n = 5
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = s.put(t, fmt.Sprintf("paused-%d", i), body) }()
	}
	eventually(t, 10*time.Second, "every PUT is on its way to the paused MinIO", func() bool { return s.fusCalls.Load() == n })
	start := time.Now()
	require.NoError(t, s.minio.Resume())
	paused = false
	wg.Wait()
	took := time.Since(start)
	for i, a := range answers {
		assert.Equal(t, http.StatusOK, a.status, "upload %d: %s", i, a.body)
		assert.Equal(t, shaOf(body), s.stored(t, fmt.Sprintf("paused-%d", i)), "upload %d", i)
	}
	row(t, "storage paused (SIGSTOP) then resumed (SIGCONT), 5 × 2 MiB in flight", "all 200, bytes identical",
		fmt.Sprintf("%d × %d, all hashes equal, done %v after the resume", n, answers[0].status, took.Round(time.Millisecond)))
}

// A client that stalls mid-body gets 408 upload_timeout after the idle
// timeout, and nothing is stored.
func TestStorageClientStalls(t *testing.T) {
	checkLeaks(t)
	const idle = 500 * time.Millisecond
	s := newStorageStack(t, upload.WithIdleTimeout(idle))
	start := time.Now()
	conn := rawPut(t, s.front.URL, "stalled", 2<<20, payload(100<<10)) // then nothing
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	a := readAnswer(resp, start)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, a.status)
	assert.Equal(t, "upload_timeout", a.code)
	assert.GreaterOrEqual(t, a.took, idle)
	assert.Less(t, a.took, idle+testwait.Scale(5*time.Second), "answered at the idle timeout, not never")
	assert.Equal(t, "", s.stored(t, "stalled"), "nothing stored")
	row(t, "client stalls mid-body (100 KiB of 2 MiB)", "408 upload_timeout after the idle timeout (500 ms), nothing stored", a.String())
}

// 100 concurrent uploads of 1 MiB: every one is stored with identical bytes
// and the heap stays flat (a fixed buffer per upload, never a whole body).
func TestStorageHundredConcurrentUploads(t *testing.T) {
	checkLeaks(t)
	s := newStorageStack(t)
	body := payload(1 << 20)
	const n = 100
	stopWatch := heapwatch.Start()
	start := time.Now()
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = s.put(t, fmt.Sprintf("many-%d", i), body) }()
	}
	wg.Wait()
	took := time.Since(start)
	growth := stopWatch()
	ok := 0
	for i, a := range answers {
		if assert.Equal(t, http.StatusOK, a.status, "upload %d: %s", i, a.body) {
			ok++
		}
	}
	same := 0
	for i := range n {
		if s.stored(t, fmt.Sprintf("many-%d", i)) == shaOf(body) {
			same++
		}
	}
	assert.Equal(t, n, same, "stored hashes equal to the sent one")
	// 100 whole bodies would be 100 MiB; per-upload buffers and the
	// connections' own are a few MiB.
	assert.Less(t, growth, int64(48<<20), "heap grew %d bytes", growth)
	row(t, "100 concurrent 1 MiB uploads", "all 200, hashes equal, heap growth < 48 MiB",
		fmt.Sprintf("%d × 200, %d hashes equal, %v, heap growth %d MiB", ok, same, took.Round(time.Millisecond), growth>>20))
}
