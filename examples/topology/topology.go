package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/cache"
	"github.com/cellgate/cellgate/zone/experiment"
	"github.com/cellgate/cellgate/zone/geofence"
)

// issuerName is the iss of every passport of the topology.
const issuerName = "https://auth.cellgate.internal"

// Public hosts, in banner order. "api-tls" and the zones' "<zone>-tls"
// web fronts listen only with -tls.
var hosts = []string{"api", "us01", "us02", "uk01", "storage", "sessions", "objects", "api-tls", "us01-tls", "us02-tls", "uk01-tls"}

// tlsOnly reports whether host name listens only with -tls.
func tlsOnly(name string) bool { return strings.HasSuffix(name, "-tls") }

// config is the topology's configuration, from flags and environment.
type config struct {
	host       string         // loopback address every public host listens on
	ports      map[string]int // public host → port; 0 picks a free one
	tls        bool           // also serve the API host over TLS (self-signed)
	keys       string         // key directory
	directory  string         // zone directory file; "" for the embedded one
	objectsDir string         // object store directory; "" for a temporary one
	s3         *standin.S3    // when set, uploads go to this bucket, not the object store
	replace    []string       // ServeMux patterns the strangler sends to the replacement
	coalesce   []string       // ServeMux patterns the gateways coalesce
	summary    time.Duration  // the cells' SummaryPattern delay; 0: standin's default
	trace      io.Writer      // spans go here when set
	grace      time.Duration  // how long shutdown drains in-flight requests
	logger     *slog.Logger
	geoipDB    string               // MaxMind country database, watched; "" for none
	hops       []string             // CIDRs of hops in front whose country header and X-Forwarded-For are believed
	admin      string               // admin listener (/metrics), never public; "" for none
	meters     metric.MeterProvider // tests: record here instead of the global provider
	metrics    *tracing.Instruments // set by run
}

// started describes the running topology, for the banner and tests.
type started struct {
	URLs  map[string]string // public host → base URL
	Keys  string            // key directory
	S3    string            // endpoint/bucket in S3 mode; no credential
	Admin string            // admin base URL (/metrics), "" without one
}

// run starts the whole topology, calls ready once every host listens, and
// serves until ctx ends; then it drains in-flight requests for cfg.grace.
func run(ctx context.Context, cfg config, ready func(started)) (err error) {
	log := cfg.logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.trace != nil {
		shutdown, err := otelsetup.Setup(ctx, otelsetup.WithConsole(cfg.trace), otelsetup.WithServiceName("cellgate-topology"))
		if err != nil {
			return err
		}
		defer shutdown(context.WithoutCancel(ctx))
	}
	adminHandler, stopMetrics, err := setupMetrics(ctx, &cfg)
	if err != nil {
		return err
	}
	defer stopMetrics()
	keys, err := reference.LoadKeys(cfg.keys)
	if err != nil {
		return err
	}
	if cfg.s3 != nil {
		if err := cfg.s3.Validate(); err != nil {
			return err
		}
	} else if cfg.objectsDir == "" {
		tmp, err := os.MkdirTemp("", "cellgate-objects-")
		if err != nil {
			return fmt.Errorf("topology: objects directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		cfg.objectsDir = tmp
	}

	// Listen first: the hosts' addresses are wired into the services.
	ls := map[string]net.Listener{}
	defer func() {
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
		}
	}()
	for _, name := range hosts {
		if tlsOnly(name) && !cfg.tls || name == "objects" && cfg.s3 != nil {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.ports[name])))
		if err != nil {
			return fmt.Errorf("topology: listen for %s: %w", name, err)
		}
		ls[name] = l
	}
	url := func(name string) string {
		l, ok := ls[name]
		if !ok {
			return "" // a host that does not listen in this mode
		}
		if tlsOnly(name) {
			return "https://" + l.Addr().String()
		}
		return "http://" + l.Addr().String()
	}

	// The embedded directory's web_base_url follows the zones' ports; a
	// directory file (-directory) is the user's and is served as written.
	var dir *zone.CachingDirectory
	if cfg.directory == "" {
		webBase := map[string]string{}
		for _, z := range reference.Zones {
			webBase[z] = url(z)
		}
		dir, err = reference.EmbeddedDirectory(webBase, zone.WithDirectoryObserver(cfg.metrics))
	} else {
		dir, err = reference.LoadDirectory(cfg.directory, zone.WithDirectoryObserver(cfg.metrics))
	}
	if err != nil {
		return err
	}
	cfg.metrics.ObserveDirectoryEntries("zone", dir.Len)

	geo, stopGeo, err := geofencing(cfg, log)
	if err != nil {
		return err
	}
	defer stopGeo()
	handlers, err := build(cfg, keys, dir, geo, url, log)
	if err != nil {
		return err
	}
	var listeners []reference.Listener
	st := started{URLs: map[string]string{}, Keys: cfg.keys}
	if cfg.s3 != nil {
		u, _ := cfg.s3.URL() // validated above
		st.S3 = u.String() + "/" + cfg.s3.Bucket
	}
	for _, name := range hosts {
		l, ok := ls[name]
		if !ok {
			continue
		}
		rl := reference.Listener{Name: name, Listener: l, Handler: handlers[name], Backend: name == "sessions" || name == "objects"}
		if tlsOnly(name) {
			if rl.TLS, err = reference.SelfSignedTLS(cfg.host, "localhost"); err != nil {
				return err
			}
			if rl.Handler == nil {
				rl.Handler = handlers[strings.TrimSuffix(name, "-tls")]
			}
		}
		listeners = append(listeners, rl)
		st.URLs[name] = rl.URL()
	}
	if adminHandler != nil {
		al, err := adminListener(cfg, adminHandler)
		if err != nil {
			return err
		}
		listeners = append(listeners, al)
		st.Admin = al.URL()
	}
	if ready != nil {
		ready(st)
	}
	ls = nil // Serve owns the listeners now
	return reference.Serve(ctx, cfg.grace, log, listeners...)
}

// build wires every service; url returns the base URL of a public host.
// Internal hops (gateway → authentication → session storage, router →
// gateway, gateway → cell, storage host → file upload service) are
// edge.Bindings: in-process calls that no header can impersonate.
func build(cfg config, keys reference.Keys, dir zone.Directory, geo *reference.GeofenceConfig, url func(string) string, log *slog.Logger) (map[string]http.Handler, error) {
	sessionsVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.Sessions}, hmacsig.WithObserver(cfg.metrics))
	if err != nil {
		return nil, err
	}
	sessionsSigner, err := hmacsig.NewSigner(keys.Sessions)
	if err != nil {
		return nil, err
	}
	store, err := passport.NewMemoryStore()
	if err != nil {
		return nil, err
	}
	sessionStorage, err := reference.NewSessionStorage(reference.SessionStorageConfig{Store: store, Verifier: sessionsVerifier, Logger: log.With("service", "sessions")})
	if err != nil {
		return nil, err
	}
	// Authentication and the cells' logins reach session storage as any
	// internal system would: through its signed API.
	toSessions, err := tracing.Transport(edge.Binding(sessionStorage))
	if err != nil {
		return nil, err
	}
	sessions, err := passport.NewStoreClient(passport.Endpoint{URL: "http://sessions.internal",
		Transport: &hmacsig.Transport{Signer: sessionsSigner, Base: toSessions}})
	if err != nil {
		return nil, err
	}

	key, err := passport.GenerateKey(passport.EdDSA) // in memory only
	if err != nil {
		return nil, err
	}
	experiments, err := reference.Experiments(experiment.WithObserver(cfg.metrics))
	if err != nil {
		return nil, err
	}
	issuer, err := passport.NewIssuer(issuerName, key, reference.AssignVariants(experiments))
	if err != nil {
		return nil, err
	}
	auth, err := reference.NewAuthentication(reference.AuthenticationConfig{Sessions: sessions, Issuer: issuer, Directory: dir,
		Residency: geo.Residency, Logger: log.With("service", "authentication")})
	if err != nil {
		return nil, err
	}
	authTransport, err := tracing.Transport(edge.Binding(auth))
	if err != nil {
		return nil, err
	}

	uploadSigner, err := hmacsig.NewSigner(keys.Upload)
	if err != nil {
		return nil, err
	}
	// The zones' web fronts call the API and storage hosts from the browser.
	var origins []string
	for _, z := range reference.Zones {
		origins = append(origins, url(z))
		if u := url(z + "-tls"); u != "" {
			origins = append(origins, u)
		}
	}
	web := webConfig{
		experiments: experiments,
		api:         reference.APIBase{HTTP: url("api"), HTTPS: url("api-tls")},
		connectSrc:  nonEmpty(url("api"), url("api-tls"), url("storage")),
		storage:     url("storage"),
		signer:      uploadSigner,
	}

	h := map[string]http.Handler{"sessions": sessionStorage}
	gateways := map[string]zone.Endpoint{}
	for _, z := range reference.Zones {
		gw, err := gateway(cfg, z, dir, geo, sessions, authTransport, web, log.With("service", "gateway-"+z))
		if err != nil {
			return nil, err
		}
		// Revocations through the session storage API reach the store, which
		// tells every gateway to drop the passports it cached.
		gw.Watch(store)
		h[z] = gw.Public
		toGateway, err := tracing.Transport(edge.Binding(gw.Internal))
		if err != nil {
			return nil, err
		}
		gateways[z] = zone.Endpoint{Transport: toGateway}
	}
	if h["api"], err = reference.NewCellRouter(reference.CellRouterConfig{
		Directory: dir, Gateways: gateways, CORSOrigins: origins, Logger: log.With("service", "router"), Geofence: geo,
	}); err != nil {
		return nil, err
	}
	if u := url("api-tls"); u != "" && cfg.directory == "" {
		// Over TLS the API host answers company_base_url with the zones'
		// TLS web fronts, which listen on ports of their own: the embedded
		// directory with those URLs, behind a router of its own.
		webBase := map[string]string{}
		for _, z := range reference.Zones {
			webBase[z] = url(z + "-tls")
		}
		tlsDir, err := reference.EmbeddedDirectory(webBase)
		if err != nil {
			return nil, err
		}
		if h["api-tls"], err = reference.NewCellRouter(reference.CellRouterConfig{
			Directory: tlsDir, Gateways: gateways, CORSOrigins: origins, Logger: log.With("service", "router"), Geofence: geo,
		}); err != nil {
			return nil, err
		}
	}
	if h["objects"], h["storage"], err = storage(cfg, keys, dir, geo, url, origins, log.With("service", "storage")); err != nil {
		return nil, err
	}
	return h, nil
}

// webConfig is what the web clients need: the API host for the pages, the
// origins they fetch from, and the storage host the cells sign uploads for.
type webConfig struct {
	api        reference.APIBase
	connectSrc []string
	storage    string
	signer     *hmacsig.Signer // the upload key

	experiments *experiment.Set // run on the gateways' own hosts
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// gateway builds the gateway of zone z with its stand-in cell and
// replacement backend.
func gateway(cfg config, z string, dir zone.Directory, geo *reference.GeofenceConfig, sessions passport.Store, auth http.RoundTripper, web webConfig, log *slog.Logger) (*reference.Gateway, error) {
	// The cells read the JWKS through the authentication service's binding,
	// as a cell in another process would over the network; rotations reach
	// them through it. (Code next to the Issuer would use WithIssuer.)
	verifier, err := passport.NewVerifier(passport.Expected{Issuer: issuerName, Audience: z}, passport.WithJWKS("https://auth.internal"+reference.JWKSPath), passport.WithJWKSTransport(auth), passport.WithObserver(cfg.metrics))
	if err != nil {
		return nil, err
	}
	cell, err := standin.NewCell(standin.CellConfig{
		Service: "cell", Zone: z, Verifier: verifier, Sessions: sessions, Trust: edge.TrustBinding,
		UploadSigner: web.signer, UploadStorage: web.storage, SummaryDelay: cfg.summary,
	})
	if err != nil {
		return nil, err
	}
	replacement, err := standin.NewCell(standin.CellConfig{Service: "replacement", Zone: z, Verifier: verifier})
	if err != nil {
		return nil, err
	}
	return reference.NewGateway(reference.GatewayConfig{
		Zone:            z,
		Directory:       dir,
		AuthURL:         "http://auth.internal" + reference.PassportsPath,
		AuthTransport:   auth,
		Cell:            reference.Upstream{URL: "http://cell-" + z + ".internal", Transport: edge.Binding(cell)},
		Replace:         cfg.replace,
		Coalesce:        cfg.coalesce,
		CoalesceOptions: []cache.CoalescerOption{cache.WithObserver(cfg.metrics)},
		Replacement:     reference.Upstream{URL: "http://replacement-" + z + ".internal", Transport: edge.Binding(replacement)},
		Trust:           edge.TrustBinding, // the router calls through a binding
		API:             web.api,
		ConnectSrc:      web.connectSrc,
		Passport:        []passport.GatewayOption{passport.WithObserver(cfg.metrics)},
		Experiments:     web.experiments,
		Logger:          log,
		Geofence:        geo,
	})
}

// storage builds the object store and the storage host, whose file upload
// services (one per zone) presign object store URLs. In S3 mode there is no
// object store: the services presign for the bucket (SigV4).
func storage(cfg config, keys reference.Keys, dir zone.Directory, geo *reference.GeofenceConfig, url func(string) string, origins []string, log *slog.Logger) (objects, host http.Handler, err error) {
	target := standin.FUSConfig{S3: cfg.s3, Logger: log}
	var storageHosts, storageAddresses []string
	// The topology has one object store (or bucket) for every zone, so both
	// regions list it; a deployment lists each region's own storage.
	var rule geofence.StorageRule
	if cfg.s3 == nil {
		objectsVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.Objects})
		if err != nil {
			return nil, nil, err
		}
		if target.Signer, err = hmacsig.NewSigner(keys.Objects); err != nil {
			return nil, nil, err
		}
		if objects, err = standin.NewObjectStore(cfg.objectsDir, objectsVerifier, log); err != nil {
			return nil, nil, err
		}
		target.Objects = url("objects")
		storageHosts = append(storageHosts, url("objects")) // "http://127.0.0.1:8086": plain http, this address only
		rule.Hosts = []string{strings.TrimPrefix(url("objects"), "http://")}
	} else {
		s3 := *cfg.s3
		if s3.Transport, err = tracing.Transport(edge.NewTransport()); err != nil {
			return nil, nil, err
		}
		target.S3 = &s3
		u, err := s3.URL()
		if err != nil {
			return nil, nil, err
		}
		// Path-style presigns name the endpoint's host: exactly that host
		// (over plain http for a MinIO on the local network).
		if u.Scheme == "http" {
			storageHosts = append(storageHosts, "http://"+u.Host)
		} else {
			storageHosts = append(storageHosts, u.Host)
		}
		region := s3.Region
		if region == "" {
			region = standin.DefaultS3Region
		}
		rule = geofence.StorageRule{Hosts: []string{u.Host}, S3Regions: []string{region}}
		// The endpoint is this operator's own configuration: a MinIO named
		// by host name on a private network ("http://minio:9000") may be
		// dialled at the addresses it has now. An IP literal needs nothing.
		if _, err := netip.ParseAddr(u.Hostname()); err != nil {
			addrs, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", u.Hostname())
			if err != nil {
				return nil, nil, fmt.Errorf("topology: resolve the S3 endpoint: %w", err)
			}
			for _, a := range addrs {
				storageAddresses = append(storageAddresses, a.Unmap().String())
			}
		}
	}
	fusVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.FUS})
	if err != nil {
		return nil, nil, err
	}
	fusSigner, err := hmacsig.NewSigner(keys.FUS)
	if err != nil {
		return nil, nil, err
	}
	// One FUS per zone, told apart by host name over a single binding.
	fusMux := http.NewServeMux()
	services := map[string]string{}
	for _, z := range reference.Zones {
		fc := target
		fc.Zone, fc.Verifier = z, fusVerifier
		fus, err := standin.NewFUS(fc)
		if err != nil {
			return nil, nil, err
		}
		host := "fus-" + z + ".internal"
		fusMux.Handle(host+"/", fus)
		services[z] = "http://" + host
	}
	uploadVerifier, err := hmacsig.NewVerifier(hmacsig.Keys{Current: keys.Upload}, hmacsig.WithObserver(cfg.metrics))
	if err != nil {
		return nil, nil, err
	}
	rules := map[geofence.Region]geofence.StorageRule{}
	for _, region := range reference.Regions {
		rules[region] = rule
	}
	inRegion, err := geofence.NewStorageCheck(geo.Residency, rules, geofence.WithObserver(cfg.metrics))
	if err != nil {
		return nil, nil, err
	}
	host, err = reference.NewFileUpload(reference.FileUploadConfig{
		Verifier:         uploadVerifier,
		Directory:        dir,
		FUS:              services,
		FUSSigner:        fusSigner,
		FUSTransport:     edge.Binding(fusMux),
		StorageHosts:     storageHosts,
		StorageAddresses: storageAddresses,
		CORSOrigins:      origins,
		Logger:           log,
		Upload:           []upload.ServiceOption{upload.WithObserver(cfg.metrics)},
		Residency:        geo.Residency,
		Storage:          inRegion,
	})
	return objects, host, err
}

// geofencing is the topology's geo-fencing (reference.Geofencing), its
// decisions counted.
func geofencing(cfg config, log *slog.Logger) (*reference.GeofenceConfig, func(), error) {
	return reference.Geofencing(cfg.hops, cfg.geoipDB, cfg.metrics, log)
}
