package peers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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

// startTimeout bounds how long a peer may take to become ready (scaled by
// testwait). It catches a hang: Azurite took over 90 s to start on a
// 2-core machine at load 40.
const startTimeout = 4 * time.Minute

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

// process is a started peer: its command, its combined output for failure
// messages, and a channel closed when it exits.
type process struct {
	name   string
	cmd    *exec.Cmd
	grace  time.Duration
	out    *syncBuffer
	exited chan struct{}
}

// launch runs the command in its own process group, so stopping it also
// stops anything it spawned. The caller stops it, or registers the stop as
// a cleanup once the peer is its own (see [process.ready]).
func launch(name string, grace time.Duration, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, grace: grace, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("peers: start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stop asks the peer to end, then kills its process group after grace.
func (p *process) stop() {
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(p.grace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-p.exited
}

// ready calls probe until it reports the peer ready, the process exits, or
// startTimeout passes; on failure the peer is stopped. A peer that exited
// because its port was taken is reported with testport.ErrTaken, so that
// testport.Start tries another port.
func (p *process) ready(probe func() (bool, error)) error {
	deadline := time.Now().Add(testwait.Scale(startTimeout))
	for {
		ok, err := probe()
		if ok {
			return nil
		}
		select {
		case <-p.exited:
			p.stop() // the rest of its process group
			if out := p.out.String(); strings.Contains(out, "already in use") || strings.Contains(out, "EADDRINUSE") {
				return fmt.Errorf("peers: %s lost its port:\n%s%w", p.name, out, testport.ErrTaken)
			}
			return fmt.Errorf("peers: %s exited before it was ready:\n%s", p.name, p.out.String())
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("peers: %s not ready after %v (last error %v):\n%s", p.name, testwait.Scale(startTimeout), err, p.out.String())
		}
	}
}

// get sends req with a short timeout and returns its status.
func get(req *http.Request) (int, error) {
	ctx, cancel := context.WithTimeout(req.Context(), time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
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
