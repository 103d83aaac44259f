package upload

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
)

// pipedBody is a body over an io.Pipe, read by the test one read at a time,
// with a fake clock that tells when a read has started.
type pipedBody struct {
	t       *testing.T
	b       *body
	w       *io.PipeWriter
	clock   *fakeclock.Clock
	started chan struct{}
}

func newPipedBody(t *testing.T, size int64, lim bodyLimits) *pipedBody {
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	pb := &pipedBody{t: t, w: w, clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), started: make(chan struct{}, 1)}
	lim.now = func() time.Time {
		now := pb.clock.Now() // before the signal: the test moves the clock once told
		select {
		case pb.started <- struct{}{}:
		default:
		}
		return now
	}
	watchdog := time.AfterFunc(time.Hour, func() {})
	t.Cleanup(func() { watchdog.Stop() })
	// A recorder has no read deadlines: only the clock decides.
	pb.b = newBody(r, httptest.NewRecorder(), size, lim, watchdog)
	return pb
}

// read starts a read, moves the clock by wait while it waits on the client,
// then sends n bytes, and returns the read's outcome.
func (pb *pipedBody) read(wait time.Duration, n int) (int, error) {
	pb.t.Helper()
	select { // a stale signal from the end of the last read
	case <-pb.started:
	default:
	}
	type result struct {
		n   int
		err error
	}
	res := make(chan result, 1)
	go func() {
		n, err := pb.b.Read(make([]byte, 64<<10))
		res <- result{n, err}
	}()
	select {
	case <-pb.started:
	case <-time.After(10 * time.Second):
		pb.t.Fatal("the read never started")
	}
	pb.clock.Advance(wait)
	go pb.w.Write(make([]byte, n)) // an aborted read leaves it blocked until cleanup
	select {
	case r := <-res:
		return r.n, r.err
	case <-time.After(10 * time.Second):
		pb.t.Fatal("the read never returned")
		return 0, nil
	}
}

func TestBodyRateFloor(t *testing.T) {
	lim := bodyLimits{idle: time.Minute, minRate: 100, grace: 10 * time.Second, maxDuration: 100 * time.Hour}
	pb := newPipedBody(t, 1<<20, lim)

	// FUS and storage took an hour before the first read: the clock starts
	// at the first read.
	pb.clock.Advance(time.Hour)
	n, err := pb.read(0, 1000) // a full credit: 10 s × 100 bytes/s
	require.NoError(t, err)
	require.Equal(t, 1000, n)
	_, err = pb.read(9*time.Second, 1) // within the grace period: nothing drains
	require.NoError(t, err)
	_, err = pb.read(6*time.Second, 1) // 5 s past the grace: 500 of 1,000 spent, refilled by 1
	require.NoError(t, err)

	// Storage slow to take bytes, between reads, is not charged to the client.
	pb.clock.Advance(time.Hour)
	_, err = pb.read(4*time.Second, 1) // 400 more spent: 101 left
	require.NoError(t, err)

	_, err = pb.read(2*time.Second, 1) // 200 owed, 101 held
	require.ErrorIs(t, err, ErrUploadTooSlow)
	// Every later read fails the same way.
	_, err = pb.b.Read(make([]byte, 1))
	require.ErrorIs(t, err, ErrUploadTooSlow)
}

// The credit never grows past grace × rate: a fast start buys at most
// grace of silence.
func TestBodyRateFloorNoBanking(t *testing.T) {
	lim := bodyLimits{idle: time.Minute, minRate: 100, grace: 10 * time.Second, maxDuration: 100 * time.Hour}
	pb := newPipedBody(t, 1<<20, lim)
	for range 10 {
		_, err := pb.read(0, 60<<10) // 600 KiB at once
		require.NoError(t, err)
	}
	_, err := pb.read(21*time.Second, 1) // 11 s past the grace: 1,100 owed, at most 1,000 held
	require.ErrorIs(t, err, ErrUploadTooSlow)
}

func TestBodyDurationCap(t *testing.T) {
	lim := bodyLimits{idle: time.Minute, grace: 10 * time.Second, maxDuration: time.Hour} // no floor
	pb := newPipedBody(t, 1<<20, lim)
	_, err := pb.read(0, 10)
	require.NoError(t, err)
	_, err = pb.read(59*time.Minute, 10)
	require.NoError(t, err)
	_, err = pb.read(2*time.Minute, 10)
	require.ErrorIs(t, err, ErrUploadTooLong)
}

// The read deadline is the nearest limit, and a read that waits past it
// fails as that limit.
func TestBodyWait(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &body{lim: bodyLimits{idle: time.Minute, minRate: 100, grace: 10 * time.Second, maxDuration: time.Hour}, start: start, credit: 1000}
	wait, limit := b.wait(start)
	assert.Equal(t, 20*time.Second, wait) // grace, then the credit
	assert.Equal(t, ErrUploadTooSlow, limit)
	b.credit = 1e9
	wait, limit = b.wait(start)
	assert.Equal(t, time.Minute, wait)
	assert.Equal(t, ErrUploadTimeout, limit)
	wait, limit = b.wait(start.Add(time.Hour - time.Second))
	assert.Equal(t, time.Second, wait)
	assert.Equal(t, ErrUploadTooLong, limit)
}

// The bookkeeping of uploads in flight holds nothing once they end.
func TestInFlightBookkeeping(t *testing.T) {
	f := newInFlight(1000, 1000)
	var releases []func()
	for i := range 500 {
		rel, err := f.acquire(Params{CompanyID: string(rune('a' + i%7)), ProjectID: "7", UploadID: "u", PartNumber: i + 1})
		require.NoError(t, err)
		releases = append(releases, rel)
	}
	uploads, companies := f.size()
	assert.Equal(t, 500, uploads)
	assert.Equal(t, 7, companies)
	for _, rel := range releases {
		rel()
		rel() // twice is once
	}
	uploads, companies = f.size()
	assert.Zero(t, uploads)
	assert.Zero(t, companies)
	assert.Zero(t, f.total)
}
