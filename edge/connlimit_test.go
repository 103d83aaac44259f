package edge

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// acceptCounter tells, through calls, each time the limiter asks its
// listener for the next connection: when it asks for the n+1st, it has
// admitted or refused the first n.
type acceptCounter struct {
	net.Listener
	calls chan struct{}
}

func (a *acceptCounter) Accept() (net.Conn, error) {
	a.calls <- struct{}{}
	return a.Listener.Accept()
}

// limitedServer serves h on loopback behind LimitConns(lim).
type limitedServer struct {
	l     *connLimiter
	addr  string
	calls chan struct{}
	taken int // connections settled so far
}

func newLimitedServer(t *testing.T, lim ConnLimits, h http.Handler) *limitedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counter := &acceptCounter{Listener: ln, calls: make(chan struct{}, 100_000)}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	l, err := LimitConns(srv, counter, lim)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return &limitedServer{l: l.(*connLimiter), addr: ln.Addr().String(), calls: counter.calls}
}

// settle waits until the server has admitted or refused n more
// connections.
func (s *limitedServer) settle(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(time.Minute) // catches a hang only
	calls := n
	if s.taken == 0 {
		calls++ // the first call came before any connection
	}
	s.taken += n
	for range calls {
		select {
		case <-s.calls:
		case <-deadline:
			t.Fatalf("the server did not take %d connections", n)
		}
	}
}

func (s *limitedServer) counts() (open, refused int) {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return s.l.open, s.l.refused
}

// dialFrom opens n connections to addr from the loopback address from. A
// connection the server refuses may be reset before the dial returns: it
// is nil in the result.
func dialFrom(t *testing.T, from, addr string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conns := make([]net.Conn, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	for i := range conns {
		c, err := d.Dial("tcp", addr)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dial %d from %s: %v", i, from, err)
		}
		conns[i] = c
	}
	return conns
}

// controlClient makes requests from 127.0.0.1 over keep-alive connections.
func controlClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

func get(t *testing.T, c *http.Client, addr string) {
	t.Helper()
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("control request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("control request: %d", resp.StatusCode)
	}
}

// closedByServer reports whether the server closed c: a read returns an
// error other than a timeout.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

// One client address holds at most PerClient connections; the rest are
// reset at once, and another client is served.
func TestLimitConnsPerClient(t *testing.T) {
	s := newLimitedServer(t, ConnLimits{PerClient: 5}, okHandler)
	dialFrom(t, "127.0.0.2", s.addr, 20)
	s.settle(t, 20)
	if open, refused := s.counts(); open != 5 || refused != 15 {
		t.Fatalf("open %d, refused %d; want 5 and 15", open, refused)
	}
	get(t, controlClient(t), s.addr)
}

// Past Max, a new connection takes the place of the one that has waited
// longest for a request.
func TestLimitConnsMaxClosesLongestWaiting(t *testing.T) {
	s := newLimitedServer(t, ConnLimits{Max: 10}, okHandler)
	attacker := dialFrom(t, "127.0.0.2", s.addr, 10)
	s.settle(t, 10)
	get(t, controlClient(t), s.addr)
	if open, refused := s.counts(); open != 10 || refused != 0 {
		t.Fatalf("open %d, refused %d; want 10 and 0", open, refused)
	}
	// The first attacker connection was the longest waiting: closed.
	deadline := time.Now().Add(time.Minute)
	for !closedByServer(t, attacker[0]) {
		if time.Now().After(deadline) {
			t.Fatal("the longest-waiting connection was not closed")
		}
	}
	if closedByServer(t, attacker[1]) {
		t.Fatal("a second waiting connection was closed for one newcomer")
	}
}

// When every connection is busy with a request, a new one is refused: the
// limit holds, and no request in progress is cut.
func TestLimitConnsRefusesWhenAllBusy(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	s := newLimitedServer(t, ConnLimits{Max: 2}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Done()
		<-release
	}))
	c := controlClient(t)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			resp, err := c.Get("http://" + s.addr + "/")
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
	}
	started.Wait()
	late := dialFrom(t, "127.0.0.3", s.addr, 1)
	s.settle(t, 3)
	if open, refused := s.counts(); open != 2 || refused != 1 {
		t.Fatalf("open %d, refused %d; want 2 and 1", open, refused)
	}
	if late[0] != nil && !closedByServer(t, late[0]) {
		t.Fatal("the connection over the limit was not closed")
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("a request in progress failed: %v", err)
		}
	}
}

// Above three quarters of Max, a connection that has waited for a request
// longer than IdleUnderPressure is closed at the next admission.
func TestLimitConnsIdleUnderPressure(t *testing.T) {
	s := newLimitedServer(t, ConnLimits{Max: 8, IdleUnderPressure: 5 * time.Second}, okHandler)
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	s.l.mu.Lock()
	s.l.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.l.mu.Unlock()
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	old := dialFrom(t, "127.0.0.2", s.addr, 6)
	s.settle(t, 6)
	advance(4 * time.Second)
	dialFrom(t, "127.0.0.3", s.addr, 1) // pressure, but nobody waited 5 s
	s.settle(t, 1)
	if open, _ := s.counts(); open != 7 {
		t.Fatalf("open %d, want 7: none waited past the bound yet", open)
	}
	advance(2 * time.Second)
	dialFrom(t, "127.0.0.3", s.addr, 1)
	s.settle(t, 1)
	if open, _ := s.counts(); open != 2 {
		t.Fatalf("open %d, want 2: the six that waited 6 s are closed", open)
	}
	for i, c := range old {
		if !closedByServer(t, c) {
			t.Fatalf("connection %d, idle past the bound under pressure, is open", i)
		}
	}
}

func TestLimitConnsRefusesNegativeLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, lim := range []ConnLimits{{Max: -1}, {PerClient: -1}, {IdleUnderPressure: -time.Second}} {
		if _, err := LimitConns(&http.Server{}, ln, lim); err == nil {
			t.Errorf("%+v accepted", lim)
		}
	}
}

// The flood of issue 23 at a scale a test can afford: one address opens
// 2,000 connections (eight times the default PerClient) while a control
// client from another address makes requests. The server holds at most
// PerClient of the flood's connections, and every control request is
// answered. The control's latency and the process's descriptors and
// goroutines are logged; only the counts are asserted.
func TestLimitConnsFloodKeepsControlServed(t *testing.T) {
	s := newLimitedServer(t, ConnLimits{}, okHandler)
	c := controlClient(t)
	latencies := func(n int) (p50, p99 time.Duration) {
		d := make([]time.Duration, n)
		for i := range d {
			start := time.Now()
			get(t, c, s.addr)
			d[i] = time.Since(start)
		}
		slices.Sort(d)
		return d[n/2], d[n*99/100]
	}
	fds := func() int { es, _ := os.ReadDir("/proc/self/fd"); return len(es) }
	p50, p99 := latencies(200)
	t.Logf("before: control p50 %v p99 %v, %d fds, %d goroutines", p50, p99, fds(), runtime.NumGoroutine())

	dialFrom(t, "127.0.0.2", s.addr, 2000)
	s.settle(t, 1+2000) // the control's connection, then the flood
	open, refused := s.counts()
	p50, p99 = latencies(200)
	t.Logf("during: %d held, %d refused; control p50 %v p99 %v, %d fds (both ends), %d goroutines",
		open, refused, p50, p99, fds(), runtime.NumGoroutine())
	if open > DefaultMaxConnsPerClient+1 || refused != 2000-DefaultMaxConnsPerClient {
		t.Fatalf("held %d, refused %d; want at most %d held", open, refused, DefaultMaxConnsPerClient+1)
	}
}
