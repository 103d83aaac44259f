// Package readmetest runs the README's walkthrough against real processes,
// so its commands and the outputs it promises cannot drift from the code.
package readmetest

import (
	"bufio"
	"context"
	"fmt"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeSection returns the fenced ```sh blocks of the README section whose
// heading is title, each as its lines.
func readmeSection(t *testing.T, title string) [][]string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]string
	in, inBlock := false, false
	var cur []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+title
			continue
		}
		if !in {
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case !inBlock && trimmed == "```sh":
			inBlock, cur = true, nil
		case inBlock && trimmed == "```":
			inBlock = false
			blocks = append(blocks, cur)
		case inBlock:
			cur = append(cur, trimmed)
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("README has no sh blocks under %q", title)
	}
	return blocks
}

// command is one shell line of the README with what it promises.
type command struct {
	line   string // as in the README
	expect string // the comment on the line and the comment lines after it
}

// commands splits blocks into commands and their expected-output comments.
func commands(blocks [][]string) []command {
	var out []command
	for _, b := range blocks {
		var joined []string // a line ending in \ goes on in the next
		for i := 0; i < len(b); i++ {
			l := b[i]
			for strings.HasSuffix(l, "\\") && i+1 < len(b) {
				i++
				l = strings.TrimSuffix(l, "\\") + b[i]
			}
			joined = append(joined, l)
		}
		for _, l := range joined {
			if strings.HasPrefix(l, "#") {
				if len(out) > 0 {
					out[len(out)-1].expect += "\n" + strings.TrimSpace(strings.TrimPrefix(l, "#"))
				}
				continue
			}
			c := command{line: l}
			if i := strings.Index(l, "   # "); i >= 0 {
				c.line, c.expect = strings.TrimSpace(l[:i]), strings.TrimSpace(l[i+len("   # "):])
			} else if i := strings.Index(l, "  # "); i >= 0 {
				c.line, c.expect = strings.TrimSpace(l[:i]), strings.TrimSpace(l[i+len("  # "):])
			}
			out = append(out, c)
		}
	}
	return out
}

// build compiles the examples' mains named into dir.
func build(t *testing.T, dir string, mains ...string) {
	t.Helper()
	args := append([]string{"build", "-o", dir + "/"}, mains...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

var bannerURL = regexp.MustCompile(`^\s+(\S+)\s+(https?://)?(127\.0\.0\.1:\d+)\s`)

// startTopology starts the built topology on ports of its own choosing and
// returns the README's address of each host mapped to the one it took.
func startTopology(t *testing.T, bin, keys string) map[string]string {
	t.Helper()
	args := []string{"-keys", keys, "-admin-addr", "127.0.0.1:0"}
	for _, h := range []string{"api", "us01", "us02", "uk01", "storage", "sessions", "objects"} {
		args = append(args, "-"+h+"-port", "0")
	}
	stdout := startProcess(t, t.TempDir(), append([]string{filepath.Join(bin, "topology")}, args...), false)
	readme := map[string]string{
		"api": "127.0.0.1:8080", "us01": "127.0.0.1:8081", "us02": "127.0.0.1:8082", "uk01": "127.0.0.1:8083",
		"storage": "127.0.0.1:8084", "sessions": "127.0.0.1:8085", "objects": "127.0.0.1:8086", "admin": "127.0.0.1:9090",
	}
	ports := map[string]string{}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := bannerURL.FindStringSubmatch(sc.Text()); m != nil {
				if old, ok := readme[m[1]]; ok {
					ports[old] = m[3]
				}
			}
			if len(ports) == len(readme) {
				found <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		found <- fmt.Errorf("topology's banner ended with %v of %v hosts", ports, readme)
	}()
	select {
	case err := <-found:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute): // catches a hang only
		t.Fatal("topology printed no banner")
	}
	return ports
}

// skipped are README lines this test does not run, with the reason.
var skipped = map[string]string{
	"sleep":             "waits out a signature's lifetime in real time",
	"signature_expired": "needs the line that sleeps",
}

// TestWalkthrough runs every shell block of the README's walkthrough section
// (steps 1 to 12 and 16 against one topology) and checks each output the
// README states.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the topology")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	blocks := readmeSection(t, "Walkthrough: the reference topology in one command")
	bin := t.TempDir()
	build(t, bin, "./topology", "./signurl")
	keys := t.TempDir()
	ports := startTopology(t, bin, keys)
	work := t.TempDir()

	rewrite := func(s string) string {
		for old, now := range ports {
			s = strings.ReplaceAll(s, old, now)
		}
		s = strings.ReplaceAll(s, "go -C examples run ./signurl", filepath.Join(bin, "signurl"))
		s = strings.ReplaceAll(s, ".cellgate/keys/", keys+"/")
		s = strings.ReplaceAll(s, "/tmp/cellgate-", work+"/cellgate-")
		return s
	}
	var script strings.Builder
	var cmds []command
	for _, c := range commands(blocks) {
		if strings.HasPrefix(c.line, "go -C examples run ./topology") {
			continue // started above, on ports of its own
		}
		if strings.Contains(c.line, "-tls") || strings.Contains(c.line, "127.0.0.1:8443") {
			continue // step 14 needs a restart with -tls
		}
		skip := false
		for k := range skipped {
			skip = skip || strings.Contains(c.line, k) || strings.Contains(c.expect, k)
		}
		if skip {
			continue
		}
		fmt.Fprintf(&script, "echo '@@%d'\n%s\n", len(cmds), rewrite(c.line))
		c.expect = rewrite(c.expect)
		cmds = append(cmds, c)
	}
	outputs := runScript(t, "walkthrough", work, &script, len(cmds), 3*time.Minute)
	checked := 0
	defer func() {
		// The README states what 20-odd of its lines print; a parser that
		// finds none checks nothing.
		if checked < 30 {
			t.Errorf("only %d promises read from the README", checked)
		}
	}()
	for i, c := range cmds {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			ps := promises(c)
			t.Logf("%s: %d promises %v", c.line, len(ps), ps)
			checked += len(ps)
			if strings.Contains(outputs[i], `\u0026`) {
				t.Errorf("%s: an API answer HTML-escaped: %s", c.line, outputs[i])
			}
			for _, want := range ps {
				if !want.match(outputs[i]) {
					t.Errorf("%s\nREADME promises %s\ngot: %s", c.line, want, outputs[i])
				}
			}
		})
	}
}

// splitOutputs cuts the script's output at its markers.
// runScript runs script with bash in work, its n commands each announced
// by an "@@i" line, and returns what each printed. limit catches a hang
// only (scaled by testwait).
func runScript(t *testing.T, name, work string, script *strings.Builder, n int, limit time.Duration) []string {
	t.Helper()
	fmt.Fprintf(script, "echo '@@%d'\n", n)
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(limit))
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-c", script.String())
	sh.Dir = work
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return splitOutputs(string(out), n)
}

// startProcess starts args[0] with args[1:] in dir, stopped when t ends,
// and returns its standard output, or its standard error when fromStderr
// (the other is discarded).
func startProcess(t *testing.T, dir string, args []string, fromStderr bool) io.Reader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	var (
		r   io.Reader
		err error
	)
	if fromStderr {
		r, err = cmd.StderrPipe()
		cmd.Stdout = io.Discard
	} else {
		r, err = cmd.StdoutPipe()
		cmd.Stderr = io.Discard
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	return r
}

func splitOutputs(out string, n int) []string {
	outputs := make([]string, n)
	cur := -1
	for _, l := range strings.SplitAfter(out, "\n") {
		var i int
		if _, err := fmt.Sscanf(l, "@@%d\n", &i); err == nil && strings.HasPrefix(l, "@@") {
			cur = i
			continue
		}
		if cur >= 0 && cur < n {
			outputs[cur] += l
		}
	}
	return outputs
}

// promise is one thing an output must hold.
type promise struct {
	what string
	fold bool // compare without case (header names)
}

func (p promise) match(out string) bool {
	if p.fold {
		return strings.Contains(strings.ToLower(out), strings.ToLower(p.what))
	}
	return strings.Contains(out, p.what)
}

func (p promise) String() string { return fmt.Sprintf("%q", p.what) }

var (
	jsonField = regexp.MustCompile(`"[a-z_]+":("[^"…]*"|-?\d+|true|false)`)
	jsonStart = regexp.MustCompile(`"[a-z_]+":"[^"…]+…`) // a value shown up to …
	codes     = regexp.MustCompile(`^(\d{3})(\s+\d{3})*(:|$|\s)`)
	header    = regexp.MustCompile(`^[A-Z][A-Za-z-]+: `)
	// Values the README shows as examples of what a run prints.
	exampleKeys = regexp.MustCompile(`^"(session_id|sid|jti|etag|exp)":`)
)

// promises reads what the README says c prints: status codes, JSON fields,
// header lines, and words such as "identical".
func promises(c command) []promise {
	e := strings.TrimSpace(c.expect)
	if e == "" {
		return nil
	}
	var ps []promise
	if m := codes.FindString(e); m != "" {
		nums := strings.Fields(strings.TrimSuffix(strings.TrimSpace(m), ":"))
		if strings.Contains(c.line, "%{http_code}") {
			ps = append(ps, promise{what: strings.Join(nums, "\n")})
		} else if strings.Contains(e, `"code":`) {
			ps = append(ps, promise{what: `"status":` + nums[0]})
		}
	}
	for _, f := range jsonStart.FindAllString(e, -1) {
		if !exampleKeys.MatchString(f) {
			ps = append(ps, promise{what: strings.TrimSuffix(f, "…")})
		}
	}
	for _, f := range jsonField.FindAllString(e, -1) {
		if !exampleKeys.MatchString(f) {
			ps = append(ps, promise{what: f})
		}
	}
	for _, part := range strings.FieldsFunc(strings.ReplaceAll(e, ", ", "\n"), func(r rune) bool { return r == '\n' }) {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(part, "HTTP/1.1 ") {
			ps = append(ps, promise{what: part})
			continue
		}
		if !header.MatchString(part) {
			continue
		}
		for _, piece := range strings.Split(part, "…") {
			if piece = strings.Trim(piece, " ;"); len(piece) > 3 {
				ps = append(ps, promise{what: piece, fold: true})
			}
		}
	}
	for _, w := range []string{"identical"} {
		if e == w {
			ps = append(ps, promise{what: w})
		}
	}
	return ps
}
