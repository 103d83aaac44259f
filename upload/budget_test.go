package upload_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/upload/uploadtest"
)

// counting is a storage stand-in that reports, after every read of a PUT's
// body, how many bytes it has so far, and answers 200 once the body is in
// (400 IncompleteBody when it breaks off).
type counting struct {
	*httptest.Server
	got chan int64
}

func newCounting(t *testing.T) *counting {
	c := &counting{got: make(chan int64, 4096)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		var n int64
		for {
			m, err := r.Body.Read(buf)
			n += int64(m)
			if m > 0 {
				c.got <- n
			}
			if err == io.EOF {
				w.WriteHeader(http.StatusOK)
				return
			}
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, "<Error><Code>IncompleteBody</Code></Error>")
				return
			}
		}
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *counting) host() string { return "http://" + c.Listener.Addr().String() }

// waitFor waits until storage has received n bytes of the PUT.
func (c *counting) waitFor(t *testing.T, n int64) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-c.got:
			if got >= n {
				return
			}
		case <-timeout:
			t.Fatalf("storage never received %d bytes", n)
		}
	}
}

// slowUpload starts a PUT of size bytes whose body the test writes through
// the returned pipe, and returns where its response arrives.
func slowUpload(t *testing.T, srv *httptest.Server, path string, size int64) (*io.PipeWriter, <-chan *http.Response) {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	req, err := http.NewRequest(http.MethodPut, srv.URL+path, pr)
	require.NoError(t, err)
	req.ContentLength = size
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("PUT: %v", err)
			close(done)
			return
		}
		t.Cleanup(func() { resp.Body.Close() })
		done <- resp
	}()
	return pw, done
}

// answered waits for the response of a slowUpload.
func answered(t *testing.T, done <-chan *http.Response) *http.Response {
	t.Helper()
	select {
	case resp, ok := <-done:
		require.True(t, ok, "no response")
		return resp
	case <-time.After(10 * time.Second):
		t.Fatal("the upload was not answered")
		return nil
	}
}

func write(t *testing.T, w io.Writer, n int) {
	t.Helper()
	_, err := w.Write(bytes.Repeat([]byte("x"), n))
	require.NoError(t, err)
}

// A client just above the floor rate, however long, completes.
func TestUploadAtFloorCompletes(t *testing.T) {
	store := newCounting(t)
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts(store.host()))
	srv := newHandler(t, f, upload.WithClock(clock.Now), upload.WithMinRate(100, 10*time.Second))

	const steps = 60 // 9 minutes at 111 bytes/s
	pw, done := slowUpload(t, srv, uploadPath("u", 0), 1000*steps)
	for i := 1; i <= steps; i++ {
		write(t, pw, 1000)
		store.waitFor(t, int64(1000*i))
		clock.Advance(9 * time.Second)
	}
	resp := answered(t, done)
	assert.Equal(t, answer{Size: 1000 * steps}, readAnswer(t, resp))
}

// The duration cap ends an upload that takes too long, whatever its rate.
func TestUploadDurationCap(t *testing.T) {
	store := newCounting(t)
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts(store.host()))
	srv := newHandler(t, f, upload.WithClock(clock.Now), upload.WithoutMinRate(), upload.WithMaxDuration(time.Hour))

	pw, done := slowUpload(t, srv, uploadPath("u", 0), 1000)
	write(t, pw, 10)
	store.waitFor(t, 10)
	clock.Advance(61 * time.Minute)
	write(t, pw, 10)

	resp := answered(t, done)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Equal(t, "upload_duration_exceeded", readProblem(t, resp).Code)
}

// A client that stops sending is cut when its credit runs out, long before
// the idle timeout: the read deadline is the nearest limit.
func TestUploadStalledCutByFloor(t *testing.T) {
	store := newCounting(t)
	f := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts(store.host()))
	srv := newHandler(t, f, upload.WithMinRate(1000, 100*time.Millisecond), upload.WithIdleTimeout(time.Minute))

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", uploadPath("u", 0))
	io.WriteString(conn, strings.Repeat("x", 100)) // then nothing, connection kept open
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Equal(t, "upload_too_slow", readProblem(t, resp).Code)
	assert.Less(t, time.Since(start), 30*time.Second, "cut by the floor, not the idle timeout")
}

// holding is a storage stand-in that takes each PUT's body, tells arrived,
// and answers only once release is closed.
type holding struct {
	*httptest.Server
	arrived chan string
	release chan struct{}
}

func newHolding(t *testing.T) *holding {
	h := &holding{arrived: make(chan string, 64), release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h.arrived <- r.URL.Path
		<-h.release
	}))
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		h.Close()
	})
	return h
}

// Uploads in flight are bounded per upload, per company and in all; the
// refusals carry Retry-After, cost no FUS call, and the bookkeeping frees
// each place when its upload ends.
func TestUploadLimits(t *testing.T) {
	store := newHolding(t)
	f := newFUS(t, func(_ context.Context, p upload.Params) (uploadtest.Answer, error) {
		return uploadtest.Answer{URL: store.URL + "/" + p.CompanyID + "/" + p.UploadID}, nil
	}, upload.WithStorageHosts("http://"+store.Listener.Addr().String()))
	srv := newHandler(t, f, upload.WithMaxUploads(3, 2))
	path := func(company, id string) string {
		return "/rest/v2.1/companies/" + company + "/projects/7/uploads/" + id
	}
	var held []<-chan *http.Response
	hold := func(company, id string) {
		pw, done := slowUpload(t, srv, path(company, id), 3)
		write(t, pw, 3)
		pw.Close()
		select {
		case got := <-store.arrived:
			require.Equal(t, "/"+company+"/"+id, got)
		case <-time.After(10 * time.Second):
			t.Fatalf("upload %s/%s never reached storage", company, id)
		}
		held = append(held, done)
	}
	refused := func(company, id string, status int, code string) {
		t.Helper()
		calls := f.Calls.Load()
		resp := put(t, srv.Client(), srv.URL+path(company, id), []byte("abc"), nil)
		assert.Equal(t, status, resp.StatusCode, "%s/%s", company, id)
		assert.Equal(t, code, readProblem(t, resp).Code)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.Equal(t, calls, f.Calls.Load(), "refused before FUS is asked")
	}

	hold("42", "a")
	refused("42", "a", http.StatusTooManyRequests, "upload_in_progress")
	hold("42", "b")
	refused("42", "c", http.StatusTooManyRequests, "too_many_uploads")
	hold("43", "d")
	refused("44", "e", http.StatusServiceUnavailable, "upload_capacity")

	close(store.release)
	for _, done := range held {
		readAnswer(t, answered(t, done))
	}
	// Every place is free again: the same uploads go through.
	for _, id := range []string{"a", "b"} {
		pw, done := slowUpload(t, srv, path("42", id), 3)
		write(t, pw, 3)
		pw.Close()
		<-store.arrived
		readAnswer(t, answered(t, done))
	}
}

// Storage that fails while the client is merely slow is storage's failure,
// not the client's: 502 storage_rejected, never 408 upload_timeout.
func TestStorageFailureWhileClientSlowIsStorages(t *testing.T) {
	for _, name := range []string{"storage answers at once", "storage gives up waiting"} {
		t.Run(name, func(t *testing.T) {
			failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				buf := make([]byte, 1000)
				if name == "storage gives up waiting" {
					for {
						_ = rc.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
						if _, err := r.Body.Read(buf); err != nil {
							break
						}
					}
				} else {
					io.ReadFull(r.Body, buf)
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "<Error><Code>InternalError</Code></Error>")
			}))
			defer failing.Close()
			f := newFUS(t, fixed(failing.URL+"/b/o", nil), upload.WithStorageHosts("http://"+failing.Listener.Addr().String()))
			srv := newHandler(t, f, upload.WithIdleTimeout(10*time.Second))

			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", uploadPath("u", 0))
			io.WriteString(conn, strings.Repeat("x", 1000)) // then a pause: a slow client
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			p := readProblem(t, resp)
			assert.Equal(t, "storage_rejected", p.Code)
			assert.Contains(t, p.Detail, "InternalError")
		})
	}
}

// exhaustedTransport fails every PUT as a dial does when the process has no
// file descriptor left.
type exhaustedTransport struct{}

func (exhaustedTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
}

// Our own exhaustion is 503 upload_capacity with a Retry-After, neither
// the client's fault nor storage's.
func TestStorageDialExhaustedIsCapacity(t *testing.T) {
	f := newFUS(t, fixed("https://s.example/b/o", nil), upload.WithStorageHosts("s.example"))
	srv := newHandler(t, f, upload.WithStorageTransport(exhaustedTransport{}))
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(100), nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "upload_capacity", readProblem(t, resp).Code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
}

// So is running out of descriptors calling the file upload service.
func TestFUSDialExhaustedIsCapacity(t *testing.T) {
	f := newFUS(t, fixed("https://s.example/b/o", nil), upload.WithStorageHosts("s.example"),
		upload.WithFUSTransport(exhaustedTransport{}))
	srv := newHandler(t, f)
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(100), nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "upload_capacity", readProblem(t, resp).Code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
}
