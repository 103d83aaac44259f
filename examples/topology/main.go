// Command topology runs cellgate's whole reference topology in one process:
// the cell router on the API host, a gateway per zone (us01, us02, uk01), the
// internal-only authentication service, the signed session storage API and
// the storage host for uploads, joined in-process by edge.Binding, with
// stand-ins for the systems outside cellgate (cells, file upload services,
// an object store). Each public host listens on its own loopback port.
//
//	go -C examples run ./topology
//
// Keys are generated at the first start and kept, mode 0600, in the key
// directory (-keys), so examples/signurl can sign URLs with them; they are
// never printed. The banner lists the hosts and a walkthrough. SIGINT or
// SIGTERM stops it after in-flight requests, uploads included, are done;
// when -grace runs out first, the connections still open are logged, cut,
// and the exit status is 3 (reference.ExitGraceExpired).
//
// S3 mode: with -s3-endpoint (and -s3-bucket, an existing bucket) uploads go
// to S3 or MinIO instead of the stand-in object store, which then does not
// run. The stand-in file upload services presign SigV4 URLs with the keys in
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (never printed); a plain-http
// endpoint is allowed as a storage host. For parts, a service starts a
// multipart upload on the first part of an upload id; completing it is the
// uploader's business (list the bucket's multipart uploads for the object
// <zone>/<upload id>, then complete with the ETags the storage host answered).
//
//	AWS_ACCESS_KEY_ID=minioadmin AWS_SECRET_ACCESS_KEY=minioadmin \
//	    go -C examples run ./topology -s3-endpoint http://127.0.0.1:9000 -s3-bucket cellgate
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/examples/reference"
)

// defaultPorts are the public hosts' ports; CELLGATE_<HOST>_PORT or
// -<host>-port changes one.
var defaultPorts = map[string]int{
	"api": 8080, "us01": 8081, "us02": 8082, "uk01": 8083,
	"storage": 8084, "sessions": 8085, "objects": 8086, "api-tls": 8443,
	"us01-tls": 8444, "us02-tls": 8445, "uk01-tls": 8446,
}

func main() {
	cfg := config{ports: map[string]int{}}
	flag.StringVar(&cfg.host, "addr-host", reference.Env("CELLGATE_ADDR_HOST", "127.0.0.1"), "address every public host listens on ($CELLGATE_ADDR_HOST)")
	ports := map[string]*int{}
	for _, name := range hosts {
		v := envName(name, "PORT")
		ports[name] = flag.Int(name+"-port", envInt(v, defaultPorts[name]), fmt.Sprintf("port of the %s host ($%s)", name, v))
	}
	flag.BoolVar(&cfg.tls, "tls", reference.Env("CELLGATE_TLS", "") == "true", "also serve the API host and the zones' web fronts over TLS ≥ 1.2 with a self-signed certificate ($CELLGATE_TLS=true)")
	flag.StringVar(&cfg.keys, "keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory; missing keys are generated there, mode 0600 ($CELLGATE_KEYS)")
	flag.StringVar(&cfg.directory, "directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: companies 1, 2, 3, 4 in us01, us02, uk01, uk01 ($CELLGATE_DIRECTORY)")
	s3 := standin.S3{}
	flag.StringVar(&s3.Endpoint, "s3-endpoint", reference.Env("CELLGATE_S3_ENDPOINT", ""), "S3 or MinIO base URL taking the uploads instead of the stand-in object store, e.g. http://127.0.0.1:9000; keys from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY ($CELLGATE_S3_ENDPOINT)")
	flag.StringVar(&s3.Bucket, "s3-bucket", reference.Env("CELLGATE_S3_BUCKET", ""), "existing bucket for the uploads in S3 mode ($CELLGATE_S3_BUCKET)")
	flag.StringVar(&s3.Region, "s3-region", reference.Env("AWS_REGION", standin.DefaultS3Region), "region signed into S3 URLs ($AWS_REGION)")
	flag.StringVar(&cfg.objectsDir, "objects-dir", reference.Env("CELLGATE_OBJECTS_DIR", ""), "where the stand-in object store keeps uploads; empty: a temporary directory ($CELLGATE_OBJECTS_DIR)")
	coalesce := flag.String("coalesce", reference.Env("CELLGATE_COALESCE", standin.SummaryPattern),
		"comma-separated ServeMux patterns whose identical concurrent GETs the gateways coalesce into one call to the cell ($CELLGATE_COALESCE)")
	replace := flag.String("replace", reference.Env("CELLGATE_REPLACE", "GET /rest/v1.0/projects/{projectId}/rfis"),
		"strangler: comma-separated ServeMux patterns served by the replacement backend instead of the cell ($CELLGATE_REPLACE)")
	flag.StringVar(&cfg.geoipDB, "geoip-db", reference.Env("CELLGATE_GEOIP_DB", ""), "MaxMind country database locating clients that no trusted hop located, reloaded when it changes; empty: none ($CELLGATE_GEOIP_DB)")
	hops := flag.String("trusted-hops", reference.Env("CELLGATE_TRUSTED_HOPS", ""), "comma-separated CIDRs of hops in front (a CDN) whose CF-IPCountry and X-Forwarded-For are believed, e.g. 127.0.0.2/32; empty: none ($CELLGATE_TRUSTED_HOPS)")
	trace := flag.Bool("trace", false, "write every span to standard output")
	flag.StringVar(&cfg.admin, "admin-addr", reference.Env("CELLGATE_ADMIN_ADDR", DefaultAdminAddr), "admin listener serving GET /metrics (Prometheus); keep it off public interfaces; empty: none ($CELLGATE_ADMIN_ADDR)")
	flag.DurationVar(&cfg.grace, "grace", edge.DefaultShutdownGrace, "how long shutdown waits for in-flight requests")
	flag.Parse()
	for name, p := range ports {
		cfg.ports[name] = *p
	}
	cfg.replace = reference.ListFlag(*replace)
	cfg.hops = reference.ListFlag(*hops)
	cfg.coalesce = reference.ListFlag(*coalesce)
	if s3.Endpoint != "" {
		s3.AccessKey, s3.SecretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		cfg.s3 = &s3
	}
	if *trace {
		cfg.trace = os.Stdout
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, func(s started) { banner(os.Stdout, s) }); err != nil {
		os.Exit(reference.ExitStatus("topology", err))
	}
	slog.Info("topology stopped cleanly")
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// envName is the variable of a host's setting: CELLGATE_API_TLS_PORT.
func envName(host, what string) string {
	return "CELLGATE_" + strings.ToUpper(strings.ReplaceAll(host, "-", "_")) + "_" + what
}
