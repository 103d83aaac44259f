package uploadpeers_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/examples/internal/peers"
	"github.com/cellgate/cellgate/upload"
)

// A client that sends 1 MiB of a declared 20 MiB and pauses, with MinIO's
// own idle timeout (2 s here, 30 s by default) shorter than cellgate's,
// gets 408 upload_timeout when MinIO gives up, not 502 storage_rejected
// (status 503, code RequestTimeout); nothing is stored.
func TestMinIOClientStallsStorageGivesUpFirst(t *testing.T) {
	m := peers.StartMinIO(t, "--idle-timeout", "2s")
	s := s3From(t, m)
	srv := s.gateway(t, s.presignPut, upload.WithIdleTimeout(time.Minute))

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", uploadPath("stalled", 0), 20<<20)
	_, err = conn.Write(payload(1 << 20)) // then nothing; the connection stays open
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	took := time.Since(start)
	p := readProblem(t, resp)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "problem %+v", p)
	assert.Equal(t, "upload_timeout", p.Code)
	assert.Less(t, took, 20*time.Second, "answered when MinIO gave up, not after cellgate's minute")
	t.Logf("stalled client answered %d %s after %v", resp.StatusCode, p.Code, took.Round(time.Millisecond))

	_, err = s.client.StatObject(context.Background(), bucket, "stalled", minio.StatObjectOptions{})
	assert.Equal(t, "NoSuchKey", minio.ToErrorResponse(err).Code, "nothing stored of a stalled upload")
}
