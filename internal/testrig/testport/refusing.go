//go:build unix

package testport

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// Refusing returns a loopback address ("127.0.0.1:PORT") that refuses
// every connection until t ends: its port is held by a socket that is
// bound and never listens, so no other process can listen there meanwhile
// and a connection attempt is answered with a reset (ECONNREFUSED).
func Refusing(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("testport: refusing address: socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	// No SO_REUSEADDR: nothing else may bind this port while we hold it.
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("testport: refusing address: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("testport: refusing address: getsockname: %v", err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
