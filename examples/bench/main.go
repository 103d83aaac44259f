// Command bench is cellgate's reproducible benchmark harness (issue 15). In
// one run, on loopback only, it starts a tiny upstream cell and fronts to it
// (bare httputil.ReverseProxy, cellgate's own edge.Proxy, the cell router,
// the gateway, router → gateway → cell, Caddy as shipped and tuned, nginx),
// each its own process (the harness re-executes itself as
// "bench serve-…"), drives them with wrk alternately over several rounds,
// then at a moderate fixed rate with an open-loop client for latency,
// measures uploads through the storage host against direct presigned PUTs
// to MinIO and an nginx streaming relay, profiles the cellgate fronts, runs
// the library's micro-benchmarks, and writes BENCHMARKS.md.
//
//	go -C examples run ./bench -out bench/BENCHMARKS.md            # quick, ~8 min
//	go -C examples run ./bench -out bench/BENCHMARKS.md -full      # longer
//	go -C examples run ./bench -out /tmp/B.md -only-moderate       # latency at moderate load alone
//
// Every process it starts runs in its own process group and is killed when
// the harness ends, on error or signal too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// options of one harness run.
type options struct {
	out        string
	duration   time.Duration
	warm       time.Duration
	rounds     int
	upRounds   int
	single     int64
	concurrent int
	each       int64
	many       int
	manyRounds int
	manySize   int64
	profile    time.Duration
	micro      bool
	root       string
	skipUpload bool
	keep       string
	command    string

	moderateRPS  int
	moderateDur  time.Duration
	onlyModerate bool
	coalesce     bool // run the coalescing benchmark
	onlyCoalesce bool // run only it, replacing its section of the report
}

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "serve-") {
		if err := serve(os.Args[1], os.Args[2:]); err != nil {
			log.Fatalf("%s: %v", os.Args[1], err)
		}
		return
	}
	var o options
	full := flag.Bool("full", false, "a longer run: 10 s per wrk and open-loop run, 5 rounds, 5 upload rounds")
	flag.StringVar(&o.out, "out", "bench/BENCHMARKS.md", "where to write the report")
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of each wrk run")
	flag.DurationVar(&o.warm, "warm", 3*time.Second, "warm-up of each front before the rounds")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of the alternated wrk runs")
	flag.IntVar(&o.upRounds, "upload-rounds", 3, "interleaved upload rounds (direct, cellgate, nginx)")
	single := flag.Int("single-mib", 1024, "size of the single-stream upload, MiB")
	flag.IntVar(&o.concurrent, "concurrent", 8, "concurrent uploads")
	each := flag.Int("each-mib", 128, "size of each concurrent upload, MiB")
	flag.IntVar(&o.many, "many", 100, "uploads of the memory check")
	flag.IntVar(&o.manyRounds, "many-rounds", 3, "rounds of the memory check, to show the peak does not grow")
	many := flag.Int("many-mib", 8, "size of each upload of the memory check, MiB")
	flag.DurationVar(&o.profile, "profile", 8*time.Second, "CPU and alloc profile length per profiled front; 0 skips")
	flag.BoolVar(&o.micro, "micro", true, "run the library's micro-benchmarks (go test -bench . -count=3 ./...)")
	flag.StringVar(&o.root, "root", "..", "the library module's directory, for the micro-benchmarks")
	flag.BoolVar(&o.skipUpload, "skip-uploads", false, "skip the upload benchmarks")
	flag.StringVar(&o.keep, "keep-profiles", "", "directory to keep the raw pprof profiles in; empty: not kept")
	flag.IntVar(&o.moderateRPS, "moderate-rps", 1000, "rate of the open-loop latency runs at moderate load, req/s; 0 skips them")
	flag.DurationVar(&o.moderateDur, "moderate-d", 5*time.Second, "duration of each open-loop latency run (as many rounds as -rounds)")
	flag.BoolVar(&o.coalesce, "coalesce", true, "run the coalescing benchmark (cellgate Coalescer, nginx proxy_cache_lock, Varnish)")
	flag.BoolVar(&o.onlyCoalesce, "only-coalesce", false, "run only the coalescing benchmark and replace its section of the report (~1 min)")
	flag.BoolVar(&o.onlyModerate, "only-moderate", false, "start the fronts and measure only the latency at moderate load (no wrk, uploads, profiles, micro-benchmarks)")
	flag.Parse()
	if *full {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["d"] {
			o.duration = 10 * time.Second
		}
		if !set["rounds"] {
			o.rounds = 5
		}
		if !set["upload-rounds"] {
			o.upRounds = 5
		}
		if !set["moderate-d"] {
			o.moderateDur = 10 * time.Second
		}
	}
	o.single, o.each, o.manySize = int64(*single)<<20, int64(*each)<<20, int64(*many)<<20
	if o.onlyModerate {
		o.skipUpload, o.profile, o.micro = true, 0, false
		if o.moderateRPS <= 0 {
			log.Fatal("bench: -only-moderate needs -moderate-rps > 0")
		}
	}
	o.command = "go -C examples run ./bench " + strings.Join(os.Args[1:], " ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Printf("bench: %v", err)
		stop()
		os.Exit(1)
	}
}

// env is everything started for a run.
type env struct {
	o       options
	ps      *procs
	tmp     string
	self    string
	token   string
	cellURL string
	fronts  []*front
	report  *report
	minio   string // host:port
	nginx   *proc
	relay   string // nginx relay host:port
	storPG  int
	admins  map[string]string // front name → admin address (for pprof)

	uploaderRef *uploader
}

func run(ctx context.Context, o options) (err error) {
	tmp, err := os.MkdirTemp("", "cellgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ps := &procs{dir: tmp}
	defer ps.stopAll() // every process group, on error too
	self, err := os.Executable()
	if err != nil {
		return err
	}
	e := &env{o: o, ps: ps, tmp: tmp, self: self, token: passport.NewToken(), admins: map[string]string{}}
	e.report = newReport(o)
	e.report.loadStart = loadavg()
	if o.onlyCoalesce {
		if err := e.coalesce(ctx); err != nil {
			return err
		}
		return e.report.spliceCoalesce(o.out)
	}
	// A failure midway still writes what was measured.
	defer func() {
		if werr := e.report.write(o.out, err); werr != nil && err == nil {
			err = werr
		}
	}()

	if err := e.startMinIO(ctx); err != nil && !o.skipUpload {
		e.report.notes = append(e.report.notes, "MinIO: "+err.Error())
		o.skipUpload = true
	}
	if err := e.startFronts(ctx); err != nil {
		return err
	}
	if !o.onlyModerate {
		if err := e.load(ctx); err != nil {
			return err
		}
	}
	if o.moderateRPS > 0 {
		if err := e.moderate(ctx); err != nil {
			return err
		}
	}
	if !o.skipUpload {
		if err := e.uploads(ctx); err != nil {
			return err
		}
	}
	if o.profile > 0 {
		if err := e.profiles(ctx); err != nil {
			e.report.notes = append(e.report.notes, "profiling: "+err.Error())
		}
	}
	e.report.loadEnd = loadavg()
	ps.stopAll()
	if o.coalesce {
		if err := e.coalesce(ctx); err != nil {
			e.report.notes = append(e.report.notes, "coalescing: "+err.Error())
		}
		ps.stopAll()
	}
	if o.micro {
		if err := e.micro(ctx); err != nil {
			e.report.notes = append(e.report.notes, "micro-benchmarks: "+err.Error())
		}
	}
	return ctx.Err()
}

// goServe starts a serve-* subcommand of this binary with an admin port.
func (e *env) goServe(name, cmd string, args ...string) (p *proc, addr, admin string, err error) {
	addr, admin = freeAddr(), freeAddr()
	args = append([]string{cmd, "-addr", addr, "-admin", admin}, args...)
	// GOMAXPROCS unset: every Go front sees both cores, as Caddy does.
	if p, err = e.ps.start(name, nil, e.self, args...); err != nil {
		return nil, "", "", err
	}
	if err = waitHTTP(p, "http://"+admin+"/memstats"); err != nil {
		return nil, "", "", err
	}
	if err = waitHTTP(p, "http://"+addr+"/"); err != nil {
		return nil, "", "", err
	}
	e.admins[name] = admin
	return p, addr, admin, nil
}

func (e *env) addGo(name, desc string, p *proc, addr, admin string) {
	e.fronts = append(e.fronts, &front{name: name, desc: desc, url: "http://" + addr + benchPath,
		pgids: []int{p.pid()}, admins: []string{admin}, goFront: true})
}

func (e *env) startFronts(ctx context.Context) error {
	cell, cellAddr, _, err := e.goServe("cell", "serve-cell")
	if err != nil {
		return err
	}
	e.cellURL = "http://" + cellAddr
	e.fronts = append(e.fronts, &front{name: "direct", desc: "direct to the tiny cell (no front)", url: e.cellURL + benchPath,
		pgids: []int{cell.pid()}})

	p, a, adm, err := e.goServe("rp", "serve-rp", "-upstream", e.cellURL)
	if err != nil {
		return err
	}
	e.addGo("rp", "bare `httputil.ReverseProxy` (Rewrite, MaxIdleConnsPerHost 512)", p, a, adm)

	if p, a, adm, err = e.goServe("edgeproxy", "serve-edgeproxy", "-upstream", e.cellURL); err != nil {
		return err
	}
	e.addGo("edgeproxy", "cellgate `edge.ProxyTo` alone (its proxy, no middleware)", p, a, adm)

	if p, a, adm, err = e.goServe("router", "serve-router", "-upstream", e.cellURL, "-log", filepath.Join(e.tmp, "router-access.json")); err != nil {
		return err
	}
	e.addGo("router", "cellgate router (`reference.NewCellRouter`, JSON access log to a file through `reference.LogBuffer`)", p, a, adm)

	if p, a, adm, err = e.goServe("router-nolog", "serve-router", "-upstream", e.cellURL); err != nil {
		return err
	}
	e.addGo("router-nolog", "the same router with its access log discarded (`slog.DiscardHandler`): what the log line costs", p, a, adm)

	if p, a, adm, err = e.goServe("gateway", "serve-gateway", "-upstream", e.cellURL, "-token", e.token,
		"-log", filepath.Join(e.tmp, "gateway-access.json")); err != nil {
		return err
	}
	e.addGo("gateway", "cellgate gateway (`reference.NewGateway`, warm session and passport cache, JSON access log to a file through `reference.LogBuffer`)", p, a, adm)

	// The chain: its own gateway (internal handler, trusting loopback) and router.
	internal := freeAddr()
	gwp, _, gwAdmin, err := e.goServe("chain-gateway", "serve-gateway", "-upstream", e.cellURL, "-token", e.token,
		"-addr2", internal, "-log", filepath.Join(e.tmp, "chain-gateway-access.json"))
	if err != nil {
		return err
	}
	if err := waitHTTP(gwp, "http://"+internal+"/health"); err != nil {
		return err
	}
	rp, ra, radm, err := e.goServe("chain-router", "serve-router", "-upstream", "http://"+internal,
		"-log", filepath.Join(e.tmp, "chain-router-access.json"))
	if err != nil {
		return err
	}
	e.fronts = append(e.fronts, &front{name: "chain", desc: "router → gateway → cell, separate processes (CPU and allocations of router + gateway)",
		url: "http://" + ra + benchPath, pgids: []int{rp.pid(), gwp.pid()}, admins: []string{radm, gwAdmin}, goFront: true})

	if err := e.startCaddy(); err != nil {
		e.report.notes = append(e.report.notes, "Caddy: "+err.Error())
	}
	if err := e.startNginx(); err != nil {
		e.report.notes = append(e.report.notes, "nginx: "+err.Error())
	}
	headers := benchHeaders(e.token)
	for _, f := range e.fronts {
		if err := check(ctx, f.url, headers); err != nil {
			return fmt.Errorf("front %s: %w", f.name, err)
		}
	}
	return nil
}

// caddyBinary finds caddy on PATH or in $GOPATH/bin.
func caddyBinary() (string, error) {
	if p, err := exec.LookPath("caddy"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "caddy")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("caddy not found (go install github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9)")
}

func (e *env) startCaddy() error {
	bin, err := caddyBinary()
	if err != nil {
		return err
	}
	e.report.caddyVersion = "unknown version"
	if out, err := exec.Command("go", "version", "-m", bin).Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == "mod" && f[1] == "github.com/caddyserver/caddy/v2" {
				e.report.caddyVersion = "Caddy " + f[2]
			}
		}
	}
	cell := strings.TrimPrefix(e.cellURL, "http://")
	for _, c := range []struct{ name, desc, transport string }{
		{"caddy", "Caddy `reverse_proxy` as shipped (32 idle conns/host)", ""},
		{"caddy-tuned", "Caddy `reverse_proxy`, `keepalive_idle_conns_per_host 512`", " {\n\t\ttransport http {\n\t\t\tkeepalive_idle_conns_per_host 512\n\t\t}\n\t}"},
	} {
		addr := freeAddr()
		conf := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tpersist_config off\n}\nhttp://%s {\n\treverse_proxy %s%s\n}\n", addr, cell, c.transport)
		file := filepath.Join(e.tmp, c.name+".Caddyfile")
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			return err
		}
		p, err := e.ps.start(c.name, []string{"XDG_DATA_HOME=" + e.tmp, "XDG_CONFIG_HOME=" + e.tmp}, bin, "run", "--config", file, "--adapter", "caddyfile")
		if err != nil {
			return err
		}
		if err := waitHTTP(p, "http://"+addr+"/"); err != nil {
			return err
		}
		e.fronts = append(e.fronts, &front{name: c.name, desc: c.desc, url: "http://" + addr + benchPath, pgids: []int{p.pid()}})
	}
	return nil
}

// startNginx runs one nginx (one worker) with two servers: the floor
// reference proxying to the cell, and the streaming upload relay to MinIO.
func (e *env) startNginx() error {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return errors.New("nginx not found (apt-get install -y nginx wrk)")
	}
	if out, err := exec.Command(bin, "-v").CombinedOutput(); err == nil {
		e.report.nginxVersion = strings.TrimSpace(string(out))
	}
	addr := freeAddr()
	e.relay = freeAddr()
	cell := strings.TrimPrefix(e.cellURL, "http://")
	relay := ""
	if e.minio != "" {
		relay = fmt.Sprintf(`
	upstream minio { server %s; keepalive 64; }
	server {
		listen %s;
		client_max_body_size 0;
		location / {
			proxy_request_buffering off;
			proxy_buffering off;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host %s;
			proxy_pass http://minio$request_uri;
		}
	}`, e.minio, e.relay, e.minio)
	}
	conf := fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_requests 1000000;
	upstream cell { server %[2]s; keepalive 512; keepalive_requests 1000000; }
	server {
		listen %[3]s;
		location / {
			proxy_pass http://cell;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}%[4]s
}
`, e.tmp, cell, addr, relay)
	file := filepath.Join(e.tmp, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return err
	}
	p, err := e.ps.start("nginx", nil, bin, "-c", file, "-p", e.tmp)
	if err != nil {
		return err
	}
	if err := waitHTTP(p, "http://"+addr+"/"); err != nil {
		return err
	}
	e.nginx = p
	e.fronts = append(e.fronts, &front{name: "nginx", desc: "nginx, one worker, `keepalive 512`, `access_log off` (the floor)", url: "http://" + addr + benchPath, pgids: []int{p.pid()}})
	return nil
}

// load warms every front, then runs wrk against each in turn, rounds times.
func (e *env) load(ctx context.Context) error {
	headers := benchHeaders(e.token)
	log.Printf("warming %d fronts", len(e.fronts))
	for _, f := range e.fronts {
		if _, err := runWrk(ctx, f.url, headers, e.o.warm); err != nil {
			return err
		}
	}
	for r := 0; r < e.o.rounds; r++ {
		for _, f := range e.fronts {
			log.Printf("round %d/%d: %s", r+1, e.o.rounds, f.name)
			if err := measure(ctx, f, headers, e.o.duration); err != nil {
				return err
			}
		}
	}
	for _, f := range e.fronts {
		var hwm int64
		for _, g := range f.pgids {
			hwm += groupHWM(g)
		}
		e.report.proxies = append(e.report.proxies, proxyRow{
			name: f.name, desc: f.desc, rps: median(f.rps), p50: median(f.p50), p99: median(f.p99),
			cpu: median(f.cpu), allocs: median(f.allocs), hasAllocs: len(f.allocs) > 0, rss: hwm, errors: f.errors,
			cpus: f.cpu,
		})
	}
	return nil
}

// startMinIO runs MinIO on loopback in a temp dir and creates the bucket.
func (e *env) startMinIO(ctx context.Context) error {
	if e.o.skipUpload {
		return nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return err
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), "bin", "minio")
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("minio"); err != nil {
			return errors.New("minio binary not found in $(go env GOPATH)/bin")
		}
	}
	data := filepath.Join(e.tmp, "minio")
	addr := freeAddr()
	p, err := e.ps.start("minio", []string{"MINIO_ROOT_USER=" + minioUser, "MINIO_ROOT_PASSWORD=" + minioPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1"},
		bin, "server", "--quiet", "--address", addr, "--console-address", freeAddr(), data)
	if err != nil {
		return err
	}
	if err := waitHTTP(p, "http://"+addr+"/minio/health/live"); err != nil {
		return err
	}
	if v, err := exec.Command(bin, "--version").Output(); err == nil {
		e.report.minioVersion = strings.SplitN(strings.TrimSpace(string(v)), "\n", 2)[0]
	}
	mc, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(minioUser, minioPassword, "")})
	if err != nil {
		return err
	}
	if err := mc.MakeBucket(ctx, "bench", minio.MakeBucketOptions{}); err != nil {
		return err
	}
	e.minio = addr
	return nil
}

// uploads runs the interleaved upload rounds and the memory check.
func (e *env) uploads(ctx context.Context) error {
	keys := filepath.Join(e.tmp, "keys")
	k, err := reference.LoadKeys(keys) // generated here, read by the storage host
	if err != nil {
		return err
	}
	signer, err := hmacsig.NewSigner(k.Upload)
	if err != nil {
		return err
	}
	sp, saddr, _, err := e.goServe("storage", "serve-storage", "-keys", keys, "-s3", "http://"+e.minio, "-bucket", "bench",
		"-log", filepath.Join(e.tmp, "storage-access.json"))
	if err != nil {
		return err
	}
	e.storPG = sp.pid()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	t.ForceAttemptHTTP2 = false
	u := &uploader{s3: minioS3("http://"+e.minio, "bench"), storage: "http://" + saddr, nginx: e.relay, signer: signer,
		client: &http.Client{Transport: t}, block: payload(1 << 20), storagePG: sp.pid()}
	vias := []string{viaDirect, viaCellgate}
	if e.nginx != nil && e.relay != "" {
		vias = append(vias, viaNginx)
	}
	res := &uploadResults{single: map[string][]float64{}, conc: map[string][]float64{}, cpu: map[string][]float64{}}
	for r := 0; r < e.o.upRounds; r++ {
		order := append(vias[r%len(vias):], vias[:r%len(vias)]...) // rotate who goes first
		for _, via := range order {
			log.Printf("upload round %d/%d: %s", r+1, e.o.upRounds, via)
			pg := 0
			switch via {
			case viaCellgate:
				pg = sp.pid()
			case viaNginx:
				pg = e.nginx.pid()
			}
			c0 := groupCPU(pg)
			mbs, err := u.run(ctx, via, "single", 1, e.o.single)
			if err != nil {
				return err
			}
			if pg != 0 {
				res.cpu[via] = append(res.cpu[via], (groupCPU(pg)-c0)/(float64(e.o.single)/(1<<30)))
			}
			res.single[via] = append(res.single[via], mbs)
			if mbs, err = u.run(ctx, via, "conc", e.o.concurrent, e.o.each); err != nil {
				return err
			}
			res.conc[via] = append(res.conc[via], mbs)
		}
		res.rssAfter = append(res.rssAfter, groupHWM(sp.pid()))
	}
	res.hwmBeforeMany = groupHWM(sp.pid())
	for r := 0; r < e.o.manyRounds; r++ {
		log.Printf("memory check %d/%d: %d × %d MiB through cellgate", r+1, e.o.manyRounds, e.o.many, e.o.manySize>>20)
		mbs, err := u.run(ctx, viaCellgate, "many", e.o.many, e.o.manySize)
		if err != nil {
			return err
		}
		res.many = append(res.many, manyRound{mbs: mbs, hwm: groupHWM(sp.pid()), rss: statusKB(sp.pid(), "VmRSS:") * 1024})
	}
	res.vias = vias
	e.report.uploads = res
	e.report.uploadSizes = [4]int64{e.o.single, int64(e.o.concurrent), e.o.each, int64(e.o.many)}
	e.report.manySize = e.o.manySize
	e.uploaderRef = u
	return nil
}
