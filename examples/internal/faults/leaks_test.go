package faults

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// settleDeadline bounds how long goroutines and fds may take to return to
// their baseline after a case (a hang-catcher, scaled by testwait).
var settleDeadline = testwait.Scale(10 * time.Second)

// fdCount counts the process's open file descriptors.
func fdCount(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}

// checkLeaks records the goroutine and fd baseline now and, when the test
// and every cleanup registered after it have run, polls until both are back
// at (or below) it, failing after settleDeadline. Call it first in a test.
func checkLeaks(t *testing.T) {
	t.Helper()
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), fdCount(t)
	t.Cleanup(func() {
		deadline := time.Now().Add(settleDeadline)
		for {
			g, f := runtime.NumGoroutine(), fdCount(t)
			if g <= goroutines && f <= fds {
				t.Logf("leaks: goroutines %d (baseline %d), fds %d (baseline %d)", g, goroutines, f, fds)
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("leaks: goroutines %d (baseline %d), fds %d (baseline %d) after %v\n%s", g, goroutines, f, fds, settleDeadline, buf)
				return
			}
			time.Sleep(20 * time.Millisecond) // poll interval, not a synchronisation
		}
	})
}

// eventually polls cond until it holds or the deadline passes. within
// catches a hang, so it is scaled by testwait.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within = testwait.Scale(within)
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, not a synchronisation
	}
}

// row logs one line of the fault table.
func row(t *testing.T, fault, expected, observed string) {
	t.Helper()
	t.Logf("fault | %s | %s | %s", fault, expected, observed)
}

func itoa(n int) string { return strconv.Itoa(n) }
