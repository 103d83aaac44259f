package testport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Attempts is how many ports [Start] tries before it fails the test.
const Attempts = 10

// ErrTaken is what a launch function passed to [Start] wraps when its peer
// could not have the port: it exited saying the address is in use, or
// another process answers there.
var ErrTaken = errors.New("testport: port taken")

// lowestPort is the bottom of the range [Candidate] draws from.
const lowestPort = 20000

// Range returns the ports [Candidate] draws from: lowestPort up to just
// below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range;
// where that file is missing, 32768, the Linux default, which is also below
// the 49152 of BSD and macOS).
func Range() (lo, hi int) {
	ephemeral := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				ephemeral = n
			}
		}
	}
	hi = ephemeral - 1
	lo = lowestPort
	if hi-lo < 1000 { // an ephemeral range that starts low: take what is below it
		lo = 1024
	}
	return lo, hi
}

// Candidate returns a random loopback port below the ephemeral range that
// nothing listens on at this moment. It is a candidate, not a reservation:
// pass it to a peer through [Start], which retries when the peer loses it.
func Candidate() (int, error) {
	lo, hi := Range()
	if hi <= lo {
		return 0, fmt.Errorf("testport: no port below the ephemeral range (%d-%d)", lo, hi)
	}
	var last error
	for range 100 {
		port := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			last = err
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("testport: no free port in %d-%d: %w", lo, hi, last)
}

// Start calls launch with a fresh [Candidate] until launch returns nil,
// and returns the port it succeeded with. When launch returns an error
// wrapping [ErrTaken], the next attempt gets another port, up to
// [Attempts] in all; any other error, or the last attempt's, fails t.
func Start(t testing.TB, name string, launch func(port int) error) int {
	t.Helper()
	var errs []error
	for range Attempts {
		port, err := Candidate()
		if err != nil {
			t.Fatalf("testport: start %s: %v", name, err)
		}
		err = launch(port)
		if err == nil {
			return port
		}
		errs = append(errs, fmt.Errorf("port %d: %w", port, err))
		if !errors.Is(err, ErrTaken) {
			break
		}
	}
	t.Fatalf("testport: start %s: %v", name, errors.Join(errs...))
	return 0
}
