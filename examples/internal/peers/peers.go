package peers

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a peer may take to become ready.
const startTimeout = 90 * time.Second

// pollInterval is the pause between readiness probes.
const pollInterval = 25 * time.Millisecond

// missing skips the test locally and fails it under CI=true.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("peers: %s (required under CI=true)", msg)
	}
	t.Skipf("peers: %s; skipping (it is required under CI=true)", msg)
}

// findBinary looks for a peer's executable: $envVar, PATH, $GOPATH/bin,
// then the given paths relative to the working directory and each directory
// above it (the repository root holds .peers; tests run in their package's
// directory inside the examples module).
func findBinary(envVar, name string, underRoot ...string) (string, bool) {
	if p := os.Getenv(envVar); p != "" {
		if isExecutable(p) {
			return p, true
		}
		return "", false
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	if p := filepath.Join(goPath(), "bin", name); isExecutable(p) {
		return p, true
	}
	for _, dir := range ancestors() {
		for _, rel := range underRoot {
			if p := filepath.Join(dir, rel); isExecutable(p) {
				return p, true
			}
		}
	}
	return "", false
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// goPath returns $GOPATH's first entry or its default, without running go.
func goPath() string {
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.SplitList(gp)[0]
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go")
}

// ancestors returns the working directory (a test runs in its package's
// directory) and every directory above it, nearest first.
func ancestors() []string {
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	var out []string
	for {
		out = append(out, dir)
		parent := filepath.Dir(dir)
		if parent == dir {
			return out
		}
		dir = parent
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peers: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a started peer: its command, its combined output for failure
// messages, and a channel closed when it exits.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// start runs the command in its own process group, so stopping it also
// stops anything it spawned, and registers the stop as a cleanup.
func start(t testing.TB, name string, grace time.Duration, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("peers: start %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.stop(grace) })
	return p
}

// stop asks the peer to end, then kills its process group after grace.
func (p *process) stop(grace time.Duration) {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-p.exited
}

// waitReady polls url until it answers a status that ready accepts, the
// process exits, or startTimeout passes.
func (p *process) waitReady(t testing.TB, url string, ready func(status int) bool) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && ready(resp.StatusCode) {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("peers: %s exited before it was ready:\n%s", p.name, p.out.String())
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("peers: %s not ready after %v (last error %v):\n%s", p.name, startTimeout, err, p.out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the head of the output only: enough to diagnose a failed start,
	// bounded however chatty the peer is.
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
