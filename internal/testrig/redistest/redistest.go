package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/testport"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// Binary returns the path of redis-server, skipping t when it is absent
// (failing it when CI=true).
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: redis-server is required in CI: %v", err)
		}
		t.Skip("redistest: redis-server not installed (apt-get install -y redis-server)")
	}
	return path
}

// Server is one redis-server process on a loopback port.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	port   int
	head   []string // before the common arguments: a config file, --sentinel
	extra  []string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a single redis-server without persistence and stops it when
// t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, Binary(t), t.TempDir(), nil)
}

func start(t testing.TB, bin, dir string, extra []string) *Server {
	t.Helper()
	return startWith(t, bin, dir, nil, extra)
}

func startWith(t testing.TB, bin, dir string, head, extra []string) *Server {
	t.Helper()
	s := &Server{t: t, bin: bin, dir: dir, head: head, extra: extra}
	// redis-server takes no port 0 for TCP: a port below the ephemeral
	// range, and another when this one turns out taken.
	testport.Start(t, "redis-server", func(port int) error {
		s.port = port
		return s.launch()
	})
	t.Cleanup(s.Kill)
	return s
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's port.
func (s *Server) Port() int { return s.port }

// Kill stops the server at once (SIGKILL), as a crash would. Killing a
// stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Pause stops the server's process (SIGSTOP) without closing anything: its
// port still accepts connections and its sockets stay open, but nothing
// is answered, as with a hung server. Resume wakes it up; so does the end
// of the test, before the server is killed. Pausing a killed server does
// nothing.
func (s *Server) Pause() {
	s.t.Helper()
	s.signal(syscall.SIGSTOP)
	s.t.Cleanup(s.Resume)
}

// Resume continues a paused server (SIGCONT); resuming a running server
// does nothing.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Errorf("redistest: %v to redis-server on port %d: %v", sig, s.port, err)
	}
}

// Restart starts a killed server again on the same port and directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.launch()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the port may linger a moment
	}
}

// launch starts redis-server and waits until it answers PING.
func (s *Server) launch() error {
	args := append([]string(nil), s.head...)
	args = append(args,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log"),
		"--protected-mode", "no",
	)
	args = append(args, s.extra...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(testwait.Scale(10 * time.Second))
	for {
		// The answer must come from this process: when the port was
		// taken, another server may answer there while ours exits.
		if pid, err := serverPID(s.Addr()); err == nil {
			if pid != cmd.Process.Pid {
				_ = cmd.Process.Kill()
				<-exited
				return fmt.Errorf("redis-server on port %d: process %d answers there: %w", s.port, pid, testport.ErrTaken)
			}
			s.mu.Lock()
			s.cmd, s.exited = cmd, exited
			s.mu.Unlock()
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			err := fmt.Errorf("redis-server on port %d exited (see %s)", s.port, filepath.Join(s.dir, "redis.log"))
			if strings.Contains(string(log), "in use") {
				err = fmt.Errorf("%w: %w", err, testport.ErrTaken)
			}
			return err
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING", s.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serverPID asks the server at addr for its process id (INFO server).
func serverPID(addr string) (int, error) {
	info, err := Command(addr, "INFO", "server")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("redistest: no process_id in INFO server")
}

// Cluster is a local Redis Cluster: three masters and their replicas.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts six cluster-enabled servers, joins them with
// redis-cli --cluster create as three masters with one replica each, and
// waits until every node reports cluster_state:ok. nodeTimeout is
// cluster-node-timeout (how long a master may be silent before its replica
// takes over).
func StartCluster(t testing.TB, nodeTimeout time.Duration) *Cluster {
	t.Helper()
	return StartClusterReplicas(t, nodeTimeout, 1)
}

// StartClusterReplicas is StartCluster with replicas replicas per master.
func StartClusterReplicas(t testing.TB, nodeTimeout time.Duration, replicas int) *Cluster {
	t.Helper()
	bin := Binary(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redistest: redis-cli is required in CI: %v", err)
		}
		t.Skip("redistest: redis-cli not installed")
	}
	c := &Cluster{}
	for range 3 * (1 + replicas) {
		dir := t.TempDir()
		c.Nodes = append(c.Nodes, start(t, bin, dir, []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
			"--cluster-replica-validity-factor", "0", // a replica may always take over
		}))
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitOK(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Wait for the replication links too, so a write can be replicated
	// (WAIT) from the first request on.
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range c.Masters() {
		waitReplicas(t, m, replicas, deadline)
	}
	return c
}

// waitReplicas polls master until n replicas are connected and online.
func waitReplicas(t testing.TB, master *Server, n int, deadline time.Time) {
	t.Helper()
	for {
		info, err := Command(master.Addr(), "INFO", "replication")
		if err == nil && strings.Contains(info, "connected_slaves:"+strconv.Itoa(n)+"\r\n") &&
			strings.Count(info, "state=online") == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: replicas of %s not in sync before the deadline", master.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Addrs returns the address of every node.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// WaitOK polls every live node until it reports cluster_state:ok and all
// 16384 slots are served, or the timeout passes.
func (c *Cluster) WaitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, n := range c.Nodes {
			if !n.Running() {
				continue
			}
			info, err := Command(n.Addr(), "CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redistest: cluster not ok before the deadline")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitFailover polls until the live nodes have promoted a replica for
// every killed master: three live masters, and cluster_state:ok with all
// slots served on every live node.
func (c *Cluster) WaitFailover(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for len(c.Masters()) < 3 {
		if time.Now().After(deadline) {
			return errors.New("redistest: no replica promoted before the deadline")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c.WaitOK(time.Until(deadline))
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Masters returns the nodes that currently report role master.
func (c *Cluster) Masters() []*Server {
	var masters []*Server
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		if info, err := Command(n.Addr(), "ROLE"); err == nil && strings.HasPrefix(info, "master") {
			masters = append(masters, n)
		}
	}
	return masters
}

// Command sends one command to addr in RESP and returns the reply as text:
// a simple or bulk string as is, an array as its elements one per line, an
// error reply as an error. Enough for health checks, not a client.
func Command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}

// Sentinel is a master, its replica and one Sentinel that monitors them
// under the name "cellgate".
type Sentinel struct {
	Master, Replica, Sentinel *Server // the data nodes and the Sentinel
	Name                      string  // the master's name for clients (MasterName)
}

// StartSentinel starts a master, a replica of it and a Sentinel, and waits
// until the Sentinel knows the replica.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := Binary(t)
	master := start(t, bin, t.TempDir(), nil)
	replica := start(t, bin, t.TempDir(), []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port())})
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	rules := "sentinel monitor cellgate 127.0.0.1 " + strconv.Itoa(master.Port()) + " 1\n" +
		"sentinel down-after-milliseconds cellgate 2000\nsentinel failover-timeout cellgate 5000\n"
	if err := os.WriteFile(conf, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := startWith(t, bin, dir, []string{conf, "--sentinel"}, nil)
	deadline := time.Now().Add(20 * time.Second)
	waitReplicas(t, master, 1, deadline)
	for {
		out, err := Command(sentinel.Addr(), "SENTINEL", "REPLICAS", "cellgate")
		if err == nil && strings.Contains(out, strconv.Itoa(replica.Port())) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redistest: the sentinel did not find the replica before the deadline")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &Sentinel{Master: master, Replica: replica, Sentinel: sentinel, Name: "cellgate"}
}
