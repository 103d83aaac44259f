package upload_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/upload"
)

// A client that stalls mid-body while storage gives up first (MinIO answers
// 503 RequestTimeout after its own idle timeout) is the client's fault: 408
// upload_timeout, logged at WARN, not a 502 storage_rejected at ERROR.
func TestHandlerClientStallStorageGivesUpFirst(t *testing.T) {
	const storageIdle = 400 * time.Millisecond
	impatient := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		buf := make([]byte, 32<<10)
		for {
			_ = rc.SetReadDeadline(time.Now().Add(storageIdle))
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<Error><Code>RequestTimeout</Code></Error>")
	}))
	defer impatient.Close()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	f := newFUS(t, fixed(impatient.URL+"/b/o", nil), upload.WithStorageHosts("http://"+impatient.Listener.Addr().String()))
	h, err := upload.NewHandler(f.Client, upload.WithIdleTimeout(10*time.Second))
	require.NoError(t, err)
	srv := httptest.NewServer(must.Build(edge.AccessLog(edge.WithLogger(logger)))(mount(h)))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", uploadPath("u", 0))
	io.WriteString(conn, strings.Repeat("x", 1000)) // then nothing, connection kept open
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Equal(t, "upload_timeout", readProblem(t, resp).Code)
	assert.Less(t, time.Since(start), 5*time.Second, "answered when storage gave up, not after cellgate's idle timeout")
	assert.Contains(t, logs.String(), "level=WARN")
	assert.NotContains(t, logs.String(), "level=ERROR")
}

// Storage that refuses before asking for the body (Expect: 100-continue)
// is still storage_rejected: nothing was waiting on the client.
func TestHandlerEarlyRefusalStaysRejected(t *testing.T) {
	rec := newRecorder(t, http.StatusForbidden, http.Header{"Content-Type": {"application/xml"}},
		"<Error><Code>SignatureDoesNotMatch</Code></Error>")
	f := newFUS(t, fixed(rec.URL+"/b/o", nil), upload.WithStorageHosts(rec.host()))
	srv := newHandler(t, f)
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(100000), nil)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "storage_rejected", readProblem(t, resp).Code)
}

// A client that leaves mid-body while storage gives up on it is a 499
// client_closed_request, not a storage failure.
func TestHandlerClientLeavesStorageGivesUp(t *testing.T) {
	giveUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // ends when the body breaks off
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "<Error><Code>IncompleteBody</Code></Error>")
	}))
	defer giveUp.Close()
	var logs bytes.Buffer
	f := newFUS(t, fixed(giveUp.URL+"/b/o", nil), upload.WithStorageHosts("http://"+giveUp.Listener.Addr().String()))
	h, err := upload.NewHandler(f.Client, upload.WithIdleTimeout(10*time.Second))
	require.NoError(t, err)
	srv := httptest.NewServer(must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))(mount(h)))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", uploadPath("u", 0))
	io.WriteString(conn, strings.Repeat("x", 1000))
	require.NoError(t, conn.(*net.TCPConn).CloseWrite()) // the client leaves
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, 499, resp.StatusCode)
	assert.Equal(t, "client_closed_request", readProblem(t, resp).Code)
}
