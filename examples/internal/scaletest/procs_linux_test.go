package scaletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// mains are the commands the test runs, by import path.
var mains = []string{"sessionstorage", "authentication", "gateway", "cellrouter"}

// build compiles the mains into a temporary directory and returns it.
func build(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, m := range mains {
		args = append(args, "github.com/cellgate/cellgate/examples/"+m)
	}
	// A hang-catcher: building four mains took over 3 minutes on a 2-core
	// machine at load 40.
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(8*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// proc is one started main.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// syncBuffer collects a process's output for the failure report.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs bin with args in its own process group, with no CELLGATE_*
// variable of the test's environment, and kills the whole group when t
// ends (on failure too). Its output is logged when t has failed.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CELLGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := &proc{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: whatever it started too
		<-p.exited
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.out)
		}
	})
	return p
}

// waitHTTP polls url until it answers at all (any status), failing t when
// the process exits first or the deadline passes.
func (p *proc) waitHTTP(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(testwait.Scale(20 * time.Second))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s: %v\n%s", p.name, url, err, p.out)
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before serving: %v\n%s", p.name, p.cmd.ProcessState, p.out)
		case <-tick.C:
		}
	}
}

// listening waits until the main logs that its host listens (reference's
// "listening host=NAME url=http://ADDR" line, printed once the listener is
// bound, port 0 resolved) and returns ADDR.
func (p *proc) listening(t *testing.T, host string) string {
	t.Helper()
	re := regexp.MustCompile(`listening host=` + regexp.QuoteMeta(host) + ` url=https?://(\S+)`)
	deadline := time.Now().Add(testwait.Scale(20 * time.Second))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not say it listens for %s:\n%s", p.name, host, p.out)
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before listening: %v\n%s", p.name, p.cmd.ProcessState, p.out)
		case <-tick.C:
		}
	}
}

// poll calls check until it returns nil or within passes; it returns how
// long that took, or the last error.
func poll(within time.Duration, check func() error) (time.Duration, error) {
	begin := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return time.Since(begin), nil
		}
		if time.Since(begin) > within {
			return time.Since(begin), fmt.Errorf("not within %v: %w", within, err)
		}
		<-tick.C
	}
}

var errPending = errors.New("not yet")
