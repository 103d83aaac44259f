package upload_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/upload"
)

// An allowed storage name that resolves to loopback (here "localhost",
// through the system's hosts file) gets no PUT: the address is checked when
// it is dialled, not only the name when the FUS answer is read.
func TestStorageNameResolvingToLoopbackRefused(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, nil, "")
	port := rec.Listener.Addr().String()[strings.LastIndexByte(rec.Listener.Addr().String(), ':')+1:]
	presigned := "http://localhost:" + port + "/b/o?X-Amz-Signature=s3cr3t"
	allowed := upload.WithStorageHosts("http://localhost:" + port)

	var logs bytes.Buffer
	f := newFUS(t, fixed(presigned, nil), allowed)
	h, err := upload.NewHandler(f.Client)
	require.NoError(t, err)
	srv := httptest.NewServer(must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))(mount(h)))
	defer srv.Close()

	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(1000), nil)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, "storage_target_refused", readProblem(t, resp).Code)
	assert.Equal(t, 0, rec.count(), "nothing reached the loopback address")
	assert.Contains(t, logs.String(), "problem=storage_target_refused")
	assert.NotContains(t, logs.String(), "s3cr3t", "the presigned URL is never logged")

	// Listing the address lets it through.
	f = newFUS(t, fixed(presigned, nil), allowed, upload.WithStorageAddresses("127.0.0.0/8", "::1"))
	srv2 := newHandler(t, f)
	readAnswer(t, put(t, srv2.Client(), srv2.URL+uploadPath("u", 0), payload(1000), nil))
	assert.Equal(t, 1, rec.count())
}

// A transport built with NewStorageTransport keeps the check; a bare
// *http.Transport is used as given.
func TestStorageTransportOwnDialer(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, nil, "")
	port := rec.Listener.Addr().String()[strings.LastIndexByte(rec.Listener.Addr().String(), ':')+1:]
	f := newFUS(t, fixed("http://localhost:"+port+"/b/o", nil), upload.WithStorageHosts("http://localhost:"+port))

	tuned := upload.NewStorageTransport(f.Client)
	tuned.MaxIdleConnsPerHost = 4
	srv := newHandler(t, f, upload.WithStorageTransport(tuned))
	resp := put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(10), nil)
	assert.Equal(t, "storage_target_refused", readProblem(t, resp).Code)

	bare := &http.Transport{}
	defer bare.CloseIdleConnections()
	srv = newHandler(t, f, upload.WithStorageTransport(bare))
	readAnswer(t, put(t, srv.Client(), srv.URL+uploadPath("u", 0), payload(10), nil))
	assert.Equal(t, 1, rec.count())
}

func TestWithStorageAddressesInvalid(t *testing.T) {
	signer, err := hmacsig.NewSigner(fusKey)
	require.NoError(t, err)
	for _, bad := range []string{"minio.internal", "10.0.0.0/40", "fe80::1%eth0", ""} {
		_, err := upload.NewClient(map[string]string{"us01": "https://f.example"}, signer,
			upload.WithStorageHosts("s.example"), upload.WithStorageAddresses(bad))
		assert.ErrorContains(t, err, "storage address", bad)
	}
}

// The default storage transport does its own TLS handshake (to copy bodies
// without an idle buffer): it verifies storage's certificate with the
// transport's TLSClientConfig and the host's name, and streams the body
// whole over HTTP/1.1.
func TestStorageTransportTLS(t *testing.T) {
	type got struct {
		proto int
		sha   string
	}
	done := make(chan got, 1)
	store := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		io.Copy(h, r.Body)
		done <- got{r.ProtoMajor, hex.EncodeToString(h.Sum(nil))}
		w.Header().Set("ETag", `"e"`)
	}))
	defer store.Close()
	f := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts(store.Listener.Addr().String()))

	tr := upload.NewStorageTransport(f.Client)
	tr.TLSClientConfig = store.Client().Transport.(*http.Transport).TLSClientConfig
	srv := newHandler(t, f, upload.WithStorageTransport(tr))
	body := payload(3<<20 + 5)
	assert.Equal(t, answer{ETag: `"e"`, Size: int64(len(body))}, readAnswer(t, put(t, srv.Client(), srv.URL+uploadPath("u", 0), body, nil)))
	g := <-done
	assert.Equal(t, 1, g.proto)
	assert.Equal(t, sha(body), g.sha)

	// Without the test CA, the certificate is refused: nothing is sent.
	f2 := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts(store.Listener.Addr().String()))
	srv2 := newHandler(t, f2)
	resp := put(t, srv2.Client(), srv2.URL+uploadPath("u", 0), body, nil)
	assert.Equal(t, "storage_unavailable", readProblem(t, resp).Code)
}
