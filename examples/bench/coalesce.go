package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone/cache"
)

// The coalescing benchmark (issue 26): a burst of identical GETs to a cell
// that takes 50 ms, through cellgate's Coalescer, nginx with
// proxy_cache_lock and Varnish's waiting list.

// slowCell answers every GET after delay with size bytes (ETag, public,
// s-maxage), and GET /calls with the number of answers begun.
func slowCell(delay time.Duration, size int64) http.Handler {
	var calls atomic.Int64
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/calls" {
			fmt.Fprint(w, calls.Load())
			return
		}
		if r.URL.Path == "/" { // readiness probe
			return
		}
		calls.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, s-maxage=60")
		h.Set("ETag", `"v1"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		for n := int64(0); n < size; {
			k := min(int64(len(chunk)), size-n)
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n += k
		}
	})
}

// coalesceFront is edge.ProxyTo behind a cache.Coalescer, and a
// cache.Cache in front of both with withCache.
func coalesceFront(upstream string, withCache bool) (http.Handler, error) {
	co, err := cache.NewCoalescer()
	if err != nil {
		return nil, err
	}
	ca, err := cache.NewCache()
	if err != nil {
		return nil, err
	}
	t := edge.NewTransport()
	t.MaxIdleConnsPerHost = 512
	p, err := edge.ProxyTo(upstream, edge.WithTransport(t))
	if err != nil {
		return nil, err
	}
	if withCache {
		return ca.Middleware(co.Middleware(p)), nil
	}
	return co.Middleware(p), nil
}

// coalesceFrontend is one front of the coalescing benchmark.
type coalesceFrontend struct {
	name, desc string
	url        string
	pgid       int
	procs      []*proc // the front and its cell
}

// burstResult is one burst through one front.
type burstResult struct {
	calls    int64           // cell calls
	ttfb     []time.Duration // per client, sorted
	errors   int
	firstErr string
	duration time.Duration
}

// coalesceRow is what the report shows of one front.
type coalesceRow struct {
	name, desc string
	bursts     []burstResult
	bigCalls   int64
	bigHWM     int64 // peak RSS over the 64 MiB runs
	bigErrors  int
	bigSlow    int // slow readers cut off
}

// startCoalesceFronts starts the slow cells and the fronts. Each front
// gets a cell of its own, so each cell's call count is that front's.
func (e *env) startCoalesceFronts(ctx context.Context, size int64) ([]*coalesceFrontend, map[string]string, error) {
	var fronts []*coalesceFrontend
	cells := map[string]string{}
	cellProcs := map[string]*proc{}
	cell := func(name string) (string, error) {
		p, addr, _, err := e.goServe("slowcell-"+name, "serve-slowcell", "-delay", "50ms", "-size", strconv.FormatInt(size, 10))
		if err != nil {
			return "", err
		}
		cells[name] = "http://" + addr
		cellProcs[name] = p
		return addr, nil
	}
	for _, g := range []struct{ name, desc, cache string }{
		{"cellgate", "cellgate `cache.Cache` → `cache.Coalescer` → `edge.ProxyTo` (defaults): what nginx and Varnish are configured to do", "true"},
		{"cellgate-coalescer", "cellgate `cache.Coalescer` → `edge.ProxyTo` (defaults), no cache: a request arriving after the response ended asks again", "false"},
	} {
		c, err := cell(g.name)
		if err != nil {
			return nil, nil, err
		}
		p, addr, _, err := e.goServe(g.name, "serve-coalesce", "-upstream", "http://"+c, "-cache="+g.cache)
		if err != nil {
			return nil, nil, err
		}
		fronts = append(fronts, &coalesceFrontend{name: g.name, desc: g.desc, url: "http://" + addr, pgid: p.pid(), procs: []*proc{p}})
	}

	if bin, err := exec.LookPath("nginx"); err == nil {
		c, err := cell("nginx")
		if err != nil {
			return nil, nil, err
		}
		if f, err := e.startCoalesceNginx(bin, c); err != nil {
			e.report.notes = append(e.report.notes, "coalescing: nginx: "+err.Error())
		} else {
			fronts = append(fronts, f)
		}
	} else {
		e.report.notes = append(e.report.notes, "coalescing: nginx not found (apt-get install -y nginx)")
	}
	if bin, err := exec.LookPath("varnishd"); err == nil {
		c, err := cell("varnish")
		if err != nil {
			return nil, nil, err
		}
		if f, err := e.startVarnish(bin, c); err != nil {
			e.report.notes = append(e.report.notes, "coalescing: varnish: "+err.Error())
		} else {
			fronts = append(fronts, f)
		}
	} else {
		e.report.notes = append(e.report.notes, "coalescing: varnishd not found (apt-get install -y varnish)")
	}
	for _, f := range fronts {
		f.procs = append(f.procs, cellProcs[f.name])
	}
	return fronts, cells, nil
}

func (e *env) startCoalesceNginx(bin, cell string) (*coalesceFrontend, error) {
	dir := filepath.Join(e.tmp, "nginx-coalesce")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr := freeAddr()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // the cache directory is the harness's (0700)
	}
	conf := user + fmt.Sprintf(`worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	proxy_cache_path %[1]s/cache levels=1:2 keys_zone=burst:10m max_size=2g inactive=10m use_temp_path=off;
	keepalive_requests 1000000;
	upstream cell { server %[2]s; keepalive 512; }
	server {
		listen %[3]s;
		location / {
			proxy_pass http://cell;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_cache burst;
			proxy_cache_lock on;
		}
	}
}
`, dir, cell, addr)
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	p, err := e.ps.start("nginx-coalesce", nil, bin, "-c", file, "-p", dir)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(p, "http://"+addr+"/"); err != nil {
		return nil, err
	}
	return &coalesceFrontend{name: "nginx", desc: "nginx, one worker, `proxy_cache` + `proxy_cache_lock on` (lock timeout and age 5 s, the defaults)", url: "http://" + addr, pgid: p.pid(), procs: []*proc{p}}, nil
}

func (e *env) startVarnish(bin, cell string) (*coalesceFrontend, error) {
	dir := filepath.Join(e.tmp, "varnish")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr := freeAddr()
	p, err := e.ps.start("varnish", nil, bin, "-F", "-j", "none", "-a", addr, "-b", cell, "-s", "malloc,512m", "-n", dir,
		"-p", "thread_pool_min=200", "-p", "thread_pool_max=5000")
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(p, "http://"+addr+"/"); err != nil {
		return nil, err
	}
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	v, _, _ := strings.Cut(string(out), "\n")
	return &coalesceFrontend{name: "varnish", desc: strings.TrimSpace(v) + ", default VCL (its waiting list coalesces), `-s malloc,512m`", url: "http://" + addr, pgid: p.pid(), procs: []*proc{p}}, nil
}

func cellCalls(cellURL string) int64 {
	res, err := http.Get(cellURL + "/calls")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// burstClient has a connection ready for every client of a burst.
func burstClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = n, n, n
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// warm opens n connections to url (distinct targets, so no front
// coalesces or caches them into fewer).
func warm(ctx context.Context, c *http.Client, url string, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", url+"/", nil)
			req.Header.Set("X-Warm", strconv.Itoa(i))
			if res, err := c.Do(req); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
}

// burst fires n identical GETs of target at once and measures each one's
// time to first byte.
func burst(ctx context.Context, c *http.Client, target string, n int, cellURL string) burstResult {
	before := cellCalls(cellURL)
	start := make(chan struct{})
	ttfb := make([]time.Duration, n)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(what string) {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, what)
			}
			var t0 time.Time
			var first time.Duration
			trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Since(t0) }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", target, nil)
			<-start
			t0 = time.Now()
			res, err := c.Do(req)
			if err != nil {
				fail(err.Error())
				return
			}
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			switch {
			case err != nil:
				fail(err.Error())
			case res.StatusCode != 200:
				fail(res.Status)
			}
			ttfb[i] = first
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	r := burstResult{duration: time.Since(t0), errors: int(errs.Load())}
	if v, ok := firstErr.Load().(string); ok {
		r.firstErr = v
	}
	for _, d := range ttfb {
		if d > 0 {
			r.ttfb = append(r.ttfb, d)
		}
	}
	slices.Sort(r.ttfb)
	r.calls = cellCalls(cellURL) - before
	return r
}

// bigRun sends n identical GETs of a large body at once; slow of them read
// at about rate bytes/s for hold, then hang up. It returns the cell calls,
// the front's peak RSS and the errors of the fast readers.
func bigRun(ctx context.Context, c *http.Client, f *coalesceFrontend, target, cellURL string, n, slow int, rate int64, hold time.Duration) (calls int64, hwm int64, errors int) {
	before := cellCalls(cellURL)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	stopSample := make(chan struct{})
	var peak atomic.Int64
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := groupRSS(f.pgid); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stopSample:
				return
			case <-t.C:
			}
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
			<-start
			res, err := c.Do(req)
			if err != nil {
				errs.Add(1)
				return
			}
			defer res.Body.Close()
			if i < slow {
				buf := make([]byte, 16<<10)
				deadline := time.Now().Add(hold)
				tick := time.Duration(int64(time.Second) * int64(len(buf)) / rate)
				for time.Now().Before(deadline) {
					if _, err := io.ReadFull(res.Body, buf); err != nil {
						return
					}
					time.Sleep(tick)
				}
				return // hang up
			}
			if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != 200 {
				errs.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(stopSample)
	return cellCalls(cellURL) - before, peak.Load(), int(errs.Load())
}

// groupRSS is the resident memory of the process group pgid now, in
// bytes.
func groupRSS(pgid int) int64 {
	var sum int64
	for _, pid := range groupPIDs(pgid) {
		sum += statusKB(pid, "VmRSS:") << 10
	}
	return sum
}

// coalesce runs the coalescing benchmark and appends its section to the
// report.
func (e *env) coalesce(ctx context.Context) error {
	const n = 1000
	fronts, cells, err := e.startCoalesceFronts(ctx, 43)
	if err != nil {
		return err
	}
	rows := make([]*coalesceRow, len(fronts))
	for i, f := range fronts {
		rows[i] = &coalesceRow{name: f.name, desc: f.desc}
	}
	client := burstClient(n)
	defer client.CloseIdleConnections()
	for round := range e.o.rounds {
		for i, f := range fronts {
			warm(ctx, client, f.url, n)
			target := fmt.Sprintf("%s/rest/v1.0/projects/7/rfis?burst=%d", f.url, round)
			b := burst(ctx, client, target, n, cells[f.name])
			rows[i].bursts = append(rows[i].bursts, b)
			if b.errors > 0 {
				e.report.notes = append(e.report.notes, fmt.Sprintf("coalescing: %s, round %d: %d errors, the first: %s", f.name, round+1, b.errors, b.firstErr))
			}
			client.CloseIdleConnections()
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	for _, f := range fronts {
		for _, p := range f.procs {
			p.stop()
		}
	}
	// 64 MiB: fresh fronts and cells, so peak RSS is this run's.
	const big = 64 << 20
	fronts, cells, err = e.startCoalesceFronts(ctx, big)
	if err != nil {
		return err
	}
	for _, f := range fronts {
		for i := range rows {
			if rows[i].name != f.name {
				continue
			}
			c := burstClient(64)
			calls, hwm, errs := bigRun(ctx, c, f, f.url+"/big?run=1", cells[f.name], 50, 10, 2<<20, 3*time.Second)
			c.CloseIdleConnections()
			rows[i].bigCalls, rows[i].bigHWM, rows[i].bigErrors, rows[i].bigSlow = calls, hwm, errs, 10
		}
		for _, p := range f.procs {
			p.stop()
		}
	}
	e.report.coalesce = rows
	return nil
}

// writeCoalesce writes the coalescing section.
func (r *report) writeCoalesce(b *bytes.Buffer) {
	if len(r.coalesce) == 0 {
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Coalescing a burst (issue 26)\n\n")
	p("1,000 concurrent identical `GET`s (one connection each, opened beforehand) to a cell that takes 50 ms to answer 43 bytes (`Cache-Control: public, s-maxage=60`, so nginx and Varnish cache and collapse it); a new target per round, %d rounds, medians over the rounds. Time to first byte per client from `httptrace.GotFirstResponseByte`, from its own start. The leader's cannot be told apart from outside: it is at least the cell's 50 ms, and a client that started late may see a cached answer sooner (Varnish, nginx, cellgate with its cache), so the fastest client is not the leader. The load generator shares the two cores with the front and the cell: the spread between clients is mostly the scheduling of 1,000 client goroutines, the same for every front.\n\n", r.o.rounds)
	p("| front | cell calls per burst | TTFB fastest | TTFB p50 | TTFB p99 | p50 − fastest | p99 − fastest | errors |\n|---|---|---|---|---|---|---|---|\n")
	for _, row := range r.coalesce {
		var calls, fastest, p50, p99, d50, d99 []float64
		errs := 0
		for _, bu := range row.bursts {
			if len(bu.ttfb) == 0 {
				continue
			}
			calls = append(calls, float64(bu.calls))
			f := bu.ttfb[0]
			q50, q99 := bu.ttfb[len(bu.ttfb)/2], bu.ttfb[len(bu.ttfb)*99/100]
			fastest, p50, p99 = append(fastest, ms(f)), append(p50, ms(q50)), append(p99, ms(q99))
			d50, d99 = append(d50, ms(q50-f)), append(d99, ms(q99-f))
			errs += bu.errors
		}
		p("| %s | %s | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %d |\n", row.name, floats(calls), median(fastest), median(p50), median(p99), median(d50), median(d99), errs)
	}
	p("\nA 64 MiB body (same cell, ETag, `s-maxage=60`) to 50 concurrent clients, 10 of which read at ~2 MiB/s for 3 s and hang up; peak RSS of the front (VmRSS sampled every 20 ms, the process group):\n\n")
	p("| front | cell calls | front peak RSS | errors (fast readers) |\n|---|---|---|---|\n")
	for _, row := range r.coalesce {
		p("| %s | %d | %s | %d |\n", row.name, row.bigCalls, mib(row.bigHWM), row.bigErrors)
	}
	p("\nFronts:\n\n")
	for _, row := range r.coalesce {
		p("- **%s**: %s\n", row.name, row.desc)
	}
	p("\n")
}

// spliceCoalesce replaces the coalescing section of the report in file
// (or inserts it before the analysis marker), keeping the rest.
func (r *report) spliceCoalesce(file string) error {
	var sec bytes.Buffer
	r.writeCoalesce(&sec)
	for _, n := range r.notes {
		fmt.Fprintf(&sec, "> Note: %s\n\n", n)
	}
	fmt.Fprintf(&sec, "Coalescing section measured %s with `%s`.\n\n", r.start.Format(time.RFC3339), strings.TrimSpace(r.o.command))
	old, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	const head = "## Coalescing a burst"
	var out []byte
	if i := bytes.Index(old, []byte(head)); i >= 0 {
		rest := old[i+len(head):]
		j := len(rest)
		for _, end := range []string{"\n## ", "\n" + analysisMarker} {
			if k := bytes.Index(rest, []byte(end)); k >= 0 && k < j {
				j = k + 1
			}
		}
		out = slices.Concat(old[:i], sec.Bytes(), rest[j:])
	} else if i := bytes.Index(old, []byte("## Micro-benchmarks")); i >= 0 {
		out = slices.Concat(old[:i], sec.Bytes(), old[i:])
	} else if i := bytes.Index(old, []byte(analysisMarker)); i >= 0 {
		out = slices.Concat(old[:i], sec.Bytes(), old[i:])
	} else {
		out = append(old, sec.Bytes()...)
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote the coalescing section of %s\n", file)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
