package upload_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/upload"
)

// figures are what one process holds: descriptors, goroutines, heap.
type figures struct {
	fds, goroutines int
	heap            uint64
}

func (f figures) String() string {
	return fmt.Sprintf("fds %d, goroutines %d, heap %.1f MiB", f.fds, f.goroutines, float64(f.heap)/(1<<20))
}

func measure(t *testing.T) figures {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds := -1
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(entries)
	}
	return figures{fds: fds, goroutines: runtime.NumGoroutine(), heap: ms.HeapInuse}
}

// dripStorage takes PUTs and tells arrived when the first byte of each is
// in; it reads until the body ends.
func dripStorage(t *testing.T, n int) (*httptest.Server, chan struct{}) {
	arrived := make(chan struct{}, n)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 512)
		if _, err := io.ReadAtLeast(r.Body, buf, 1); err != nil {
			return
		}
		arrived <- struct{}{}
		io.CopyBuffer(io.Discard, r.Body, buf)
	}))
	t.Cleanup(s.Close)
	return s, arrived
}

// slowDrip opens n uploads of one company that send one byte and then
// nothing, waits until held of them reach storage, and returns the figures
// before, while they are held, and (when answered) after every upload was
// answered and the attacker's connections closed, with the answers' codes.
func slowDrip(t *testing.T, n, held int, answered bool, opts ...upload.HandlerOption) (before, during, after figures, codes map[string]int) {
	store, arrived := dripStorage(t, n)
	f := newFUS(t, fixed(store.URL+"/b/o", nil), upload.WithStorageHosts("http://"+store.Listener.Addr().String()))
	srv := newHandler(t, f, opts...)

	before = measure(t)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		conns = append(conns, c)
		fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx", uploadPath("drip"+strconv.Itoa(i), 0))
	}
	timeout := time.After(60 * time.Second)
	for range held {
		select {
		case <-arrived:
		case <-timeout:
			t.Fatal("the uploads never reached storage")
		}
	}
	during = measure(t)
	if !answered {
		return before, during, figures{}, nil
	}
	codes = map[string]int{}
	for _, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(60*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			codes["no answer: "+err.Error()]++
			continue
		}
		codes[strconv.Itoa(resp.StatusCode)+" "+readProblem(t, resp).Code]++
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	// The server side closes its ends after the answers; give it a moment
	// to notice, bounded, without sleeping on a guess.
	deadline := time.Now().Add(30 * time.Second)
	for {
		after = measure(t)
		if after.fds <= before.fds+8 || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	return before, during, after, codes
}

// Slow-drip uploads: each sends a byte and then nothing. Without a floor or
// limits they are all held, with their connections, goroutines and
// buffers; with them, one company holds at most its share, the rest are
// refused at once, and the held ones are cut after the grace period and
// their credit, leaving nothing behind. The figures go to the test log.
func TestSlowDripAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 descriptors")
	}
	const n = 500
	t.Run("without floor or limits", func(t *testing.T) {
		before, held, _, _ := slowDrip(t, n, n, false, upload.WithoutMinRate(), upload.WithMaxUploads(100000, 100000))
		t.Logf("%d slow uploads: before %v; held %v (%.1f KiB heap per upload, client and storage stand-in included)",
			n, before, held, float64(held.heap-before.heap)/n/1024)
	})
	t.Run("with the defaults", func(t *testing.T) {
		const grace = 3 * time.Second
		before, during, after, codes := slowDrip(t, n, upload.DefaultMaxCompanyUploads, true, upload.WithMinRate(0, grace))
		t.Logf("%d slow uploads (grace %v): before %v; held %v; after %v; answers %v", n, grace, before, during, after, codes)

		// Every upload is cut by the floor or refused at once; on a slow
		// machine a place freed by an early cut may take one more.
		assert.Equal(t, n, codes["408 upload_too_slow"]+codes["429 too_many_uploads"], "%v", codes)
		assert.GreaterOrEqual(t, codes["408 upload_too_slow"], upload.DefaultMaxCompanyUploads, "the held uploads are cut by the floor")
		assert.LessOrEqual(t, after.fds, before.fds+8, "no descriptor left behind")
		// Four goroutines per held upload here (the edge's server conn and
		// storage transport, the stand-in's server conn), plus the refused
		// connections the server is still closing.
		assert.LessOrEqual(t, during.goroutines-before.goroutines, 4*upload.DefaultMaxCompanyUploads+(n-upload.DefaultMaxCompanyUploads)+16,
			"at most the company's share held")
	})
}

// An idle upload holds less through the default storage transport than
// through a plain one, whose connection copies the body with a 32 KiB
// buffer held while the client sends nothing.
func TestIdleUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 800 descriptors")
	}
	const n = 200
	perUpload := func(plain bool) float64 {
		var kib float64
		t.Run(map[bool]string{true: "plain transport", false: "default transport"}[plain], func(t *testing.T) {
			opts := []upload.HandlerOption{upload.WithoutMinRate()}
			if plain {
				opts = append(opts, upload.WithStorageTransport(&http.Transport{}))
			}
			before, held, _, _ := slowDrip(t, n, n, false, opts...)
			kib = float64(held.heap-before.heap) / n / 1024
			t.Logf("%d idle uploads: before %v; held %v: %.1f KiB heap per upload (client and storage stand-in included)", n, before, held, kib)
		})
		return kib
	}
	plain, def := perUpload(true), perUpload(false)
	assert.Less(t, def, plain-24, "the default transport holds no 32 KiB copy buffer per idle upload")
}
