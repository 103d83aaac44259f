package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profiles takes CPU and allocation profiles of the cellgate fronts (and
// the bare proxy, for comparison) under the same wrk load, and of the
// storage host during uploads.
func (e *env) profiles(ctx context.Context) error {
	headers := benchHeaders(e.token)
	secs := int(e.o.profile.Seconds())
	for _, name := range []string{"rp", "edgeproxy", "router", "router-nolog", "gateway"} {
		var f *front
		for _, x := range e.fronts {
			if x.name == name {
				f = x
			}
		}
		if f == nil {
			continue
		}
		log.Printf("profiling %s", name)
		done := make(chan error, 1)
		go func() {
			_, err := runWrk(ctx, f.url, headers, e.o.profile+2*time.Second)
			done <- err
		}()
		time.Sleep(time.Second)
		if err := e.profileOne(ctx, name, e.admins[name], secs, "under wrk"); err != nil {
			return err
		}
		if err := <-done; err != nil {
			return err
		}
	}
	if u := e.uploaderRef; u != nil {
		log.Printf("profiling storage during uploads")
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for cctx.Err() == nil {
				if _, err := u.run(cctx, viaCellgate, "profile", 1, e.o.single); err != nil {
					return
				}
			}
		}()
		time.Sleep(500 * time.Millisecond)
		err := e.profileOne(ctx, "storage", e.admins["storage"], secs, fmt.Sprintf("during back-to-back single %s uploads", mib(e.o.single)))
		cancel()
		<-done
		return err
	}
	return nil
}

// profileOne takes a CPU and a delta allocation profile of one front at
// the same time and keeps their top functions.
func (e *env) profileOne(ctx context.Context, name, admin string, secs int, what string) error {
	type got struct {
		kind, top string
		err       error
	}
	ch := make(chan got, 3)
	for _, kind := range []string{"profile", "allocs"} {
		go func() {
			dir := e.tmp
			if e.o.keep != "" {
				dir = e.o.keep
				os.MkdirAll(dir, 0o755)
			}
			file := filepath.Join(dir, name+"."+kind+".pb.gz")
			err := fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", admin, kind, secs), file)
			if err != nil {
				ch <- got{kind: kind, err: err}
				return
			}
			args := []string{"tool", "pprof", "-top", "-nodecount=20"}
			if kind == "allocs" {
				args = append(args, "-sample_index=alloc_objects", "-nodecount=25")
			}
			out, err := exec.CommandContext(ctx, "go", append(args, file)...).CombinedOutput()
			ch <- got{kind: kind, top: string(out), err: err}
			if kind == "profile" {
				// Cumulative, cellgate and its middleware's stacks only:
				// what each layer costs on top of the proxy.
				out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40",
					"-focus=cellgate|otelhttp|httputil|ServeMux", file).CombinedOutput()
				ch <- got{kind: "profile-cum", top: string(out), err: err}
			}
		}()
	}
	for range 3 {
		g := <-ch
		if g.err != nil {
			return fmt.Errorf("%s %s profile: %v %s", name, g.kind, g.err, g.top)
		}
		label := "CPU (flat), " + what
		switch g.kind {
		case "allocs":
			label = "allocations (objects), " + what
		case "profile-cum":
			label = "CPU (cumulative, stacks through cellgate, otelhttp, httputil or ServeMux), " + what
		}
		e.report.profiles = append(e.report.profiles, profileOut{name: name, what: label, top: trimPprof(g.top)})
	}
	return nil
}

// trimPprof drops pprof's file and build lines, keeping the totals and table.
func trimPprof(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func fetch(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// micro runs the library's benchmarks and tabulates medians of 3 counts.
func (e *env) micro(ctx context.Context) error {
	log.Printf("micro-benchmarks in %s", e.o.root)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "go", "test", "-run", "XXX", "-bench", ".", "-benchmem", "-count=3", "./...")
	cmd.Dir = e.o.root
	cmd.SysProcAttr = nil
	out, err := cmd.CombinedOutput()
	table := microTable(out)
	if err != nil {
		table += fmt.Sprintf("\n`go test` failed: %v\n", err)
	}
	e.report.micro = table
	return nil
}

type microKey struct{ pkg, name string }

// microTable turns `go test -bench` output into one Markdown table.
func microTable(out []byte) string {
	var order []microKey
	vals := map[microKey]map[string][]float64{}
	units := map[microKey][]string{}
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(v, "github.com/cellgate/cellgate/")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		k := microKey{pkg, strings.TrimPrefix(name, "Benchmark")}
		if vals[k] == nil {
			vals[k] = map[string][]float64{}
			order = append(order, k)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			u := f[i+1]
			if _, seen := vals[k][u]; !seen {
				units[k] = append(units[k], u)
			}
			vals[k][u] = append(vals[k][u], v)
		}
	}
	if len(order) == 0 {
		return "No benchmark output.\n"
	}
	var b strings.Builder
	b.WriteString("| package | benchmark | ns/op | B/op | allocs/op | other |\n|---|---|---|---|---|---|\n")
	for _, k := range order {
		get := func(u string) string {
			if v, ok := vals[k][u]; ok {
				return strconv.FormatFloat(median(v), 'f', -1, 64)
			}
			return "–"
		}
		var other []string
		for _, u := range units[k] {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" {
				other = append(other, get(u)+" "+u)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", k.pkg, k.name, get("ns/op"), get("B/op"), get("allocs/op"), strings.Join(other, ", "))
	}
	return b.String()
}
