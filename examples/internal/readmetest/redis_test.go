package readmetest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
)

var listening = regexp.MustCompile(`listening host=(\S+) url=https?://(\S+)`)

// TestRedisScaleOut runs the README's "Scale out on Redis" blocks: the
// services of the first block as separate processes (each -addr and
// -internal-addr moved to a port the process picks, the others' addresses
// rewritten to match), redis-server from internal/testrig/redistest and, for the
// python3 cell, a Go server that also answers 404 to everything; then the
// second block as written, checking each output the README states.
func TestRedisScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the services")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	blocks := readmeSection(t, "Scale out on Redis")
	if len(blocks) != 2 {
		t.Fatalf("%d sh blocks in the Redis section, want 2 (services, then calls)", len(blocks))
	}
	rds := redistest.Start(t) // skips without redis-server, fails in CI
	cell := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(cell.Close)
	bin := t.TempDir()
	build(t, bin, "./sessionstorage", "./authentication", "./gateway", "./cellrouter", "./signurl")
	work := t.TempDir() // the repository root's stand-in: .cellgate/keys/ lands here

	addrs := map[string]string{
		"127.0.0.1:6379": rds.Addr(),
		"127.0.0.1:7001": strings.TrimPrefix(cell.URL, "http://"),
	}
	rewrite := func(s string) string {
		for old, now := range addrs {
			s = strings.ReplaceAll(s, old, now)
		}
		s = strings.ReplaceAll(s, "go -C examples run ./", bin+"/")
		return s
	}
	for _, line := range blocks[0] {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "redis-server ") || strings.HasPrefix(line, "python3 ") {
			continue // started above
		}
		if !strings.HasPrefix(line, "go -C examples run ./") {
			t.Fatalf("README starts a service this test does not know: %s", line)
		}
		args := strings.Fields(rewrite(line))
		own := map[string]string{} // listener name suffix → README address
		for i := 0; i+1 < len(args); i++ {
			switch args[i] {
			case "-addr":
				own[""], args[i+1] = args[i+1], "127.0.0.1:0"
			case "-internal-addr":
				own["-internal"], args[i+1] = args[i+1], "127.0.0.1:0"
			}
		}
		start(t, work, args, own, addrs)
	}

	var script strings.Builder
	var cmds []command
	for _, c := range commands(blocks[1:]) {
		line := rewrite(c.line)
		for old, now := range addrs { // a port on its own: for port in 8081 8091
			_, oldPort, _ := strings.Cut(old, ":")
			_, newPort, _ := strings.Cut(now, ":")
			line = regexp.MustCompile(`\b`+oldPort+`\b`).ReplaceAllString(line, newPort)
		}
		fmt.Fprintf(&script, "echo '@@%d'\n%s\n", len(cmds), line)
		c.expect = rewrite(c.expect)
		cmds = append(cmds, c)
	}
	outputs := runScript(t, "Redis walkthrough", work, &script, len(cmds), 2*time.Minute)
	checked := 0
	for i, c := range cmds {
		ps := promises(c)
		t.Logf("%s: %d promises %v", c.line, len(ps), ps)
		checked += len(ps)
		for _, want := range ps {
			if !want.match(outputs[i]) {
				t.Errorf("%s\nREADME promises %s\ngot: %s", c.line, want, outputs[i])
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d promises read from the README", checked)
	}
}

// start runs one service in dir and waits until it logs every listener in
// own, recording each README address → the address it took in addrs.
func start(t *testing.T, dir string, args []string, own, addrs map[string]string) {
	t.Helper()
	stderr := startProcess(t, dir, args, true)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var log strings.Builder
		seen := 0
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			m := listening.FindStringSubmatch(sc.Text())
			if m == nil || seen == len(own) {
				continue
			}
			for suffix, old := range own {
				if strings.HasSuffix(m[1], "-internal") == (suffix == "-internal") {
					addrs[old] = m[2]
					seen++
				}
			}
			if seen == len(own) {
				done <- nil
				go io.Copy(io.Discard, stderr)
				return
			}
		}
		done <- fmt.Errorf("%s exited before listening:\n%s", filepath.Base(args[0]), log.String())
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // catches a hang only
		t.Fatalf("%s did not listen", filepath.Base(args[0]))
	}
}
