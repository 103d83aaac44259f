package upload_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/uploadrig"
)

// The rig shared with the real-storage tests of the examples module.
var (
	fusKey      = uploadrig.FUSKey
	us01        = uploadrig.US01
	newFUS      = uploadrig.NewFUS
	fixed       = uploadrig.Fixed
	mount       = uploadrig.Mount
	newHandler  = uploadrig.NewHandler
	uploadPath  = uploadrig.Path
	put         = uploadrig.Put
	readProblem = uploadrig.ReadProblem
	readAnswer  = uploadrig.ReadAnswer
	sha         = uploadrig.SHA
	payload     = uploadrig.Payload
)

type (
	answer = uploadrig.Answer
)

var uploadKey = bytes.Repeat([]byte("u"), 32)

// recorded is one request as a storage recorder saw it.
type recorded struct {
	Method, RequestURI string
	Proto              int
	Header             http.Header
	ContentLength      int64
	TransferEncoding   []string
	Size               int64
	SHA256             string
	ReadErr            error
}

// recorder is a storage stand-in that records the shape of each request,
// for GCS (no local emulator verifies its signed URLs) and for failure
// cases. It answers with status, header and body.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	got    []recorded
	done   chan recorded
	status int
	header http.Header
	body   string
}

func newRecorder(t testing.TB, status int, header http.Header, body string) *recorder {
	t.Helper()
	rec := &recorder{done: make(chan recorded, 16), status: status, header: header, body: body}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		got := recorded{
			Method: r.Method, RequestURI: r.RequestURI, Proto: r.ProtoMajor, Header: r.Header.Clone(),
			ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
			Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), ReadErr: err,
		}
		rec.mu.Lock()
		rec.got = append(rec.got, got)
		rec.mu.Unlock()
		rec.done <- got
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		io.WriteString(w, rec.body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.got)
}

// host is the recorder's WithStorageHosts entry: plain http to its
// address.
func (rec *recorder) host() string { return "http://" + rec.Listener.Addr().String() }
