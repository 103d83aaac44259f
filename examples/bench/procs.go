package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks every process group the harness started, so that stopAll
// kills them all, on error and on a signal too.
type procs struct {
	mu   sync.Mutex
	list []*proc
	dir  string // where logs of started processes go
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// start runs name with args in its own process group, output to a log file.
func (ps *procs) start(name string, env []string, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), env...)
	out, err := os.Create(filepath.Join(ps.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); out.Close(); close(p.exited) }()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// stop ends p's process group: SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	pg := -p.cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
	}
	syscall.Kill(pg, syscall.SIGKILL)
	<-p.exited
}

func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHTTP polls url until it answers (any status), p exits or 60 s pass.
func waitHTTP(p *proc, url string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			discard(resp.Body)
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready (see its log)", p.name)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready: %v", p.name, err)
		}
	}
}

// clockTicks is USER_HZ; 100 on every Linux this runs on.
const clockTicks = 100

// groupCPU returns utime+stime (seconds) summed over every live process
// whose process group is pgid (nginx's master and worker, for example).
func groupCPU(pgid int) float64 {
	var ticks float64
	for _, pid := range groupPIDs(pgid) {
		f := statFields(pid)
		if len(f) > 14 {
			u, _ := strconv.ParseFloat(f[13], 64)
			s, _ := strconv.ParseFloat(f[14], 64)
			ticks += u + s
		}
	}
	return ticks / clockTicks
}

// groupHWM returns the largest VmHWM (bytes) among the group's processes.
func groupHWM(pgid int) int64 {
	var hwm int64
	for _, pid := range groupPIDs(pgid) {
		if v := statusKB(pid, "VmHWM:") * 1024; v > hwm {
			hwm = v
		}
	}
	return hwm
}

// statFields returns /proc/pid/stat's fields after the command name, with
// the pid and command as fields 0 and 1, so indexes match proc(5) minus 1.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return append([]string{strconv.Itoa(pid), "comm"}, strings.Fields(string(b[i+1:]))...)
}

func groupPIDs(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(pid)
		if len(f) > 4 && f[4] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

func statusKB(pid int, key string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// mallocs reads a Go front's Mallocs from its admin endpoint; -1 if none.
func mallocs(ctx context.Context, admin string) int64 {
	if admin == "" {
		return -1
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/memstats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var m struct {
		Mallocs int64 `json:"mallocs"`
	}
	if err := jsonDecode(resp.Body, &m); err != nil {
		return -1
	}
	return m.Mallocs
}
