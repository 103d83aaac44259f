package testport

import (
	"errors"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Candidates lie below the kernel's ephemeral range, where no outgoing
// connection takes a port, and nothing listens on them.
func TestCandidateBelowEphemeralRange(t *testing.T) {
	lo, hi := Range()
	if lo < 1024 || hi <= lo {
		t.Fatalf("range %d-%d", lo, hi)
	}
	for range 50 {
		port, err := Candidate()
		if err != nil {
			t.Fatal(err)
		}
		if port < lo || port > hi {
			t.Fatalf("port %d outside %d-%d", port, lo, hi)
		}
	}
}

// Start moves to a fresh port when the launch lost its port, and fails
// the test at once on any other error.
func TestStartRetriesTakenPorts(t *testing.T) {
	var tried []int
	port := Start(t, "peer", func(port int) error {
		tried = append(tried, port)
		if len(tried) < 3 {
			return ErrTaken
		}
		return nil
	})
	if len(tried) != 3 || port != tried[2] {
		t.Fatalf("tried %v, got %d", tried, port)
	}
	if tried[0] == tried[1] && tried[1] == tried[2] {
		t.Fatalf("the same port thrice: %v", tried)
	}

	calls := 0
	ft := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ft, "peer", func(int) error { calls++; return errors.New("broken binary") })
	}()
	<-done
	if !ft.failed || calls != 1 {
		t.Fatalf("a launch that fails for another reason: failed %v after %d calls", ft.failed, calls)
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	failed bool
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

// A refusing address refuses connections, and nothing else can listen on
// it while the test runs.
func TestRefusing(t *testing.T) {
	addr := Refusing(t)
	_, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("another listener took %s", addr)
	}
	_, port, _ := net.SplitHostPort(addr)
	if n, _ := strconv.Atoi(port); n == 0 {
		t.Fatalf("no port in %s", addr)
	}
}
