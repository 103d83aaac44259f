// Command cellrouter serves the API host of cellgate's reference topology:
// each request names its company (Procore-Company-Id, the path or the
// query), the zone directory names the company's zone, and the request goes
// to that zone's gateway; GET /rest/v1.0/company_base_url is answered here.
//
//	go -C examples run ./cellrouter -addr 127.0.0.1:8080 \
//	    -gateway us01=http://127.0.0.1:9081,us02=http://127.0.0.1:9082,uk01=http://127.0.0.1:9083
//
// The gateway URLs are the gateways' internal listeners (examples/gateway
// -internal-addr), which believe the router's Cellgate-* headers.
//
// With -redis (comma-separated addresses; several are a Redis Cluster) the
// router's directory cache follows directory-change notices
// (zone/redisnotice), so every router replica sees a company move at once,
// and a -directory file is read again on each cache miss: edit the file,
// then publish the company that moved:
//
//	redis-cli PUBLISH cellgate:directory 42
//
// (when the key directory holds notices.key, notices are signed and a bare
// PUBLISH is dropped: publish with redisnotice.Publish under that key). A
// router cut off from the notices for more than a second asks the
// directory on every lookup instead of trusting its cache.
// Without -redis a moved company keeps its old zone until the cache TTL
// (five minutes).
package main

import (
	"context"
	"flag"
	"os"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8080"), "listen address ($CELLGATE_ADDR)")
	directory := flag.String("directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	gateways := reference.MapFlag{}
	flag.Var(gateways, "gateway", "zone=URL of each zone's gateway, comma-separated or repeated")
	cors := flag.String("cors", reference.Env("CELLGATE_CORS", ""), "comma-separated origins allowed to call the API ($CELLGATE_CORS)")
	trace := flag.Bool("trace", false, "write every span to standard output")
	keys := flag.String("keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: notices.key signs Redis notices when present ($CELLGATE_KEYS)")
	geofencing := reference.GeofenceFlags()
	redisAddrs := flag.String("redis", reference.Env("CELLGATE_REDIS", ""), "comma-separated Redis addresses (several: Cluster) for directory-change notices; empty: none ($CELLGATE_REDIS)")
	flag.Parse()
	var err error
	var stop func()
	if geo, stop, err = geofencing(); err != nil {
		os.Exit(reference.ExitStatus("cellrouter", err))
	}
	defer stop()
	if err := run(*addr, *directory, gateways, reference.ListFlag(*cors), *trace, *keys, reference.ListFlag(*redisAddrs)); err != nil {
		os.Exit(reference.ExitStatus("cellrouter", err))
	}
}

func run(addr, directory string, gateways map[string]string, origins []string, trace bool, keys string, redisAddrs []string) error {
	if trace {
		shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithConsole(os.Stdout), otelsetup.WithServiceName("cellrouter"))
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
	}
	if len(redisAddrs) == 0 {
		dir, err := reference.LoadDirectory(directory)
		if err != nil {
			return err
		}
		return serve(addr, dir, gateways, origins)
	}
	dir, err := reference.LoadSharedDirectory(directory)
	if err != nil {
		return err
	}
	noticeKey, err := reference.NoticeKey(keys)
	if err != nil {
		return err
	}
	client, err := reference.NewRedisClient("cellrouter", redisAddrs)
	if err != nil {
		return err
	}
	defer client.Close()
	notices, err := redisnotice.New(client, reference.DirectoryNoticeOptions(noticeKey)...)
	if err != nil {
		return err
	}
	defer notices.Close()
	defer notices.Watch(dir)()
	return serve(addr, dir, gateways, origins)
}

// geo keeps companies in their regions and applies the location policies
// (-trusted-hops, -geoip-db).
var geo *reference.GeofenceConfig

func serve(addr string, dir zone.Directory, gateways map[string]string, origins []string) error {
	gws := map[string]zone.Endpoint{}
	for z, u := range gateways {
		out, err := tracing.Transport(edge.NewTransport())
		if err != nil {
			return err
		}
		gws[z] = zone.Endpoint{URL: u, Transport: out}
	}
	h, err := reference.NewCellRouter(reference.CellRouterConfig{Directory: dir, Gateways: gws, CORSOrigins: origins, Geofence: geo})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("api", addr, h)
}
