package redistest

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/testport"
)

// A redis-server started on a port another server holds does not take the
// other for itself: it reports the port taken (so the start tries another
// one) instead of handing the test a server that is not its own. The
// impostor answers every command as a healthy Redis would answer PING.
func TestLaunchRefusesAnotherServersPort(t *testing.T) {
	bin := Binary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := readReply(r); err != nil {
						return
					}
					reply := "# Server\r\nredis_version:7.0.0\r\nprocess_id:1\r\n"
					if _, err := c.Write([]byte("$" + strconv.Itoa(len(reply)) + "\r\n" + reply + "\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: l.Addr().(*net.TCPAddr).Port}
	err = s.launch()
	if err == nil {
		s.Kill()
		t.Fatal("launch took a port another server answers on")
	}
	if !errors.Is(err, testport.ErrTaken) {
		t.Fatalf("launch: %v, want testport.ErrTaken", err)
	}
}
