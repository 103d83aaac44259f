package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone"
)

// cellBody is what the tiny upstream cell answers to every request.
var cellBody = []byte(`{"ok":true,"service":"cell","zone":"us01"}` + "\n")

// serveFlags are the flags every serve-* subcommand reads.
type serveFlags struct {
	addr     string // listen address of the front
	addr2    string // second listener (the gateway's internal handler)
	admin    string // admin listener: pprof and /memstats
	upstream string // base URL of the next hop
	token    string // session token (gateway)
	keys     string // key directory (storage)
	s3       string // MinIO endpoint (storage)
	bucket   string
	log      string        // access log file; "" discards
	logSync  bool          // a write per line instead of a LogBuffer
	delay    time.Duration // serve-slowcell: wait before answering
	size     int64         // serve-slowcell: body size
	cache    bool          // serve-coalesce: a cache.Cache in front
}

// serve runs one front process: cmd is the subcommand, args its flags.
func serve(cmd string, args []string) error {
	var f serveFlags
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&f.addr2, "addr2", "", "second listen address (gateway internal)")
	fs.StringVar(&f.admin, "admin", "", "admin address (pprof, /memstats)")
	fs.StringVar(&f.upstream, "upstream", "", "upstream base URL")
	fs.StringVar(&f.token, "token", "", "session token")
	fs.StringVar(&f.keys, "keys", "", "key directory")
	fs.StringVar(&f.s3, "s3", "", "S3 endpoint")
	fs.StringVar(&f.bucket, "bucket", "", "S3 bucket")
	fs.StringVar(&f.log, "log", "", "JSON access log file; empty discards")
	fs.BoolVar(&f.logSync, "log-sync", false, "write each access log line at once instead of through a reference.LogBuffer")
	fs.DurationVar(&f.delay, "delay", 50*time.Millisecond, "serve-slowcell: wait before answering")
	fs.Int64Var(&f.size, "size", 43, "serve-slowcell: body size in bytes")
	fs.BoolVar(&f.cache, "cache", false, "serve-coalesce: a cache.Cache in front of the coalescer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, closeLog, err := accessLogger(f.log, f.logSync)
	if err != nil {
		return err
	}
	defer closeLog()

	var h, h2 http.Handler
	switch cmd {
	case "serve-cell":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(cellBody)
		})
	case "serve-slowcell":
		h = slowCell(f.delay, f.size)
	case "serve-coalesce":
		h, err = coalesceFront(f.upstream, f.cache)
	case "serve-rp":
		h, err = bareProxy(f.upstream)
	case "serve-edgeproxy":
		h, err = edge.ProxyTo(f.upstream, edge.WithLogger(logger))
	case "serve-router":
		h, err = router(f.upstream, nil, logger)
	case "serve-gateway":
		h, h2, err = gatewayFront(f.upstream, nil, f.token, logger)
	case "serve-storage":
		h, err = storageFront(f, logger)
	default:
		return fmt.Errorf("unknown subcommand %s", cmd)
	}
	if err != nil {
		return err
	}
	if f.admin != "" {
		go http.ListenAndServe(f.admin, adminMux())
	}
	srvs := []*http.Server{{Addr: f.addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	if h2 != nil && f.addr2 != "" {
		srvs = append(srvs, &http.Server{Addr: f.addr2, Handler: h2, ReadHeaderTimeout: 10 * time.Second})
	}
	errs := make(chan error, len(srvs))
	for _, s := range srvs {
		l, err := net.Listen("tcp", s.Addr)
		if err != nil {
			return err
		}
		go func() { errs <- s.Serve(l) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	for _, s := range srvs {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Shutdown(sctx)
		cancel()
	}
	return nil
}

// accessLogger returns a JSON logger writing to file, or discarding. Unless
// sync, lines reach the file through a reference.LogBuffer flushed every
// 100 ms, as a production edge would write them.
func accessLogger(file string, sync bool) (*slog.Logger, func(), error) {
	if file == "" {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if sync {
		return slog.New(slog.NewJSONHandler(f, nil)), func() { f.Close() }, nil
	}
	b := reference.NewLogBuffer(f, 100*time.Millisecond)
	return slog.New(slog.NewJSONHandler(b, nil)), func() { b.Close(); f.Close() }, nil
}

// adminMux serves net/http/pprof and /memstats (Mallocs, for allocations
// per request).
func adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		json.NewEncoder(w).Encode(map[string]uint64{"mallocs": m.Mallocs, "total_alloc": m.TotalAlloc, "num_gc": uint64(m.NumGC)})
	})
	return mux
}

// bareProxy is httputil.ReverseProxy with Rewrite and 512 idle connections
// per host: the baseline every Go front is compared with.
func bareProxy(upstream string) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 512
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport: t,
	}, nil
}

// directory is the examples' embedded directory: company 1 in us01.
func directory() (*zone.CachingDirectory, error) { return reference.EmbeddedDirectory(nil) }

// router is reference.NewCellRouter with every zone's gateway at upstream,
// reached through t (edge.NewTransport() when nil).
func router(upstream string, t http.RoundTripper, logger *slog.Logger) (http.Handler, error) {
	dir, err := directory()
	if err != nil {
		return nil, err
	}
	gws := map[string]zone.Endpoint{}
	for _, z := range reference.Zones {
		gws[z] = zone.Endpoint{URL: upstream, Transport: t}
	}
	return reference.NewCellRouter(reference.CellRouterConfig{Directory: dir, Gateways: gws, Logger: logger})
}

// gatewayFront is reference.NewGateway for us01 with an in-process
// authentication service over an in-memory session store holding one
// session for company 1 under token. Public serves wrk directly; Internal
// (second listener) serves the router, trusting loopback. The cell is
// reached through t (edge.NewTransport() when nil).
func gatewayFront(cell string, t http.RoundTripper, token string, logger *slog.Logger) (public, internal http.Handler, err error) {
	dir, err := directory()
	if err != nil {
		return nil, nil, err
	}
	store, err := passport.NewMemoryStore()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	if err := store.Put(context.Background(), passport.TokenKey(token), passport.Session{
		ID: passport.NewSessionID(), User: "bench", Companies: []string{"1"}, Created: now, Expires: now.Add(24 * time.Hour),
	}); err != nil {
		return nil, nil, err
	}
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		return nil, nil, err
	}
	issuer, err := passport.NewIssuer("https://auth.cellgate.internal", key)
	if err != nil {
		return nil, nil, err
	}
	auth, err := reference.NewAuthentication(reference.AuthenticationConfig{Sessions: store, Issuer: issuer, Directory: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	loopback, err := edge.TrustNetworks("127.0.0.0/8")
	if err != nil {
		return nil, nil, err
	}
	gw, err := reference.NewGateway(reference.GatewayConfig{
		Zone:          "us01",
		Directory:     dir,
		AuthURL:       "http://auth.internal" + reference.PassportsPath,
		AuthTransport: edge.Binding(auth),
		Cell:          reference.Upstream{URL: cell, Transport: t},
		Trust:         loopback,
		Logger:        logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return gw.Public, gw.Internal, nil
}

// storageFront is the storage host (reference.NewFileUpload) with the
// stand-in file upload services in S3 mode, presigning for MinIO.
func storageFront(f serveFlags, logger *slog.Logger) (http.Handler, error) {
	keys, err := reference.LoadKeys(f.keys)
	if err != nil {
		return nil, err
	}
	dir, err := directory()
	if err != nil {
		return nil, err
	}
	s3 := minioS3(f.s3, f.bucket)
	s3.Transport = edge.NewTransport()
	fusVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.FUS})
	if err != nil {
		return nil, err
	}
	fusSigner, err := hmacsig.NewSigner(keys.FUS)
	if err != nil {
		return nil, err
	}
	fusMux := http.NewServeMux()
	services := map[string]string{}
	for _, z := range reference.Zones {
		fus, err := standin.NewFUS(standin.FUSConfig{Zone: z, Verifier: fusVerifier, S3: s3, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, err
		}
		host := "fus-" + z + ".internal"
		fusMux.Handle(host+"/", fus)
		services[z] = "http://" + host
	}
	uploadVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.Upload})
	if err != nil {
		return nil, err
	}
	return reference.NewFileUpload(reference.FileUploadConfig{
		Verifier:     uploadVerifier,
		Directory:    dir,
		FUS:          services,
		FUSSigner:    fusSigner,
		FUSTransport: edge.Binding(fusMux),
		StorageHosts: []string{f.s3},
		Logger:       logger,
	})
}

// MinIO root credentials of the harness; they protect a temp dir only.
const (
	minioUser     = "cellgate-bench"
	minioPassword = "cellgate-bench-secret"
)

func minioS3(endpoint, bucket string) *standin.S3 {
	return &standin.S3{Endpoint: endpoint, Bucket: bucket, AccessKey: minioUser, SecretKey: minioPassword}
}

// discard drains and closes a response body.
func discard(rc io.ReadCloser) {
	io.Copy(io.Discard, rc)
	rc.Close()
}
