package upload_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/upload"
)

type finished struct {
	zone, outcome string
	n             int64
}

// uploads is an upload.Observer that remembers what it was told.
type uploads struct {
	mu       sync.Mutex
	active   int
	finished []finished
}

func (u *uploads) UploadsObserved(context.Context) bool { return true }

func (u *uploads) UploadStarted(context.Context, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.active++
}

func (u *uploads) UploadFinished(_ context.Context, zone string, n int64, _ time.Duration, outcome string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.active--
	u.finished = append(u.finished, finished{zone, outcome, n})
}

func TestHandlerObserverSeesBytesAndOutcome(t *testing.T) {
	var obs uploads
	ok := newRecorder(t, http.StatusOK, http.Header{"Etag": {`"e"`}}, "")
	f := newFUS(t, fixed(ok.URL+"/bucket/key", nil), upload.WithStorageHosts(ok.host()))
	srv := newHandler(t, f, upload.WithObserver(&obs))
	body := payload(70_001)
	resp := put(t, srv.Client(), srv.URL+uploadPath("u1", 0), body, nil)
	readAnswer(t, resp)
	<-ok.done

	refusing := newRecorder(t, http.StatusForbidden, nil, `<Error><Code>AccessDenied</Code></Error>`)
	f = newFUS(t, fixed(refusing.URL+"/bucket/key", nil), upload.WithStorageHosts(refusing.host()))
	srv = newHandler(t, f, upload.WithObserver(&obs))
	resp = put(t, srv.Client(), srv.URL+uploadPath("u2", 0), []byte("data"), nil)
	require.Equal(t, "storage_rejected", readProblem(t, resp).Code)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Len(t, obs.finished, 2)
	assert.Equal(t, finished{zone: obs.finished[0].zone, outcome: "ok", n: int64(len(body))}, obs.finished[0])
	assert.NotEmpty(t, obs.finished[0].zone)
	assert.Equal(t, "storage_rejected", obs.finished[1].outcome)
	assert.Zero(t, obs.active, "nothing left in flight")
}
