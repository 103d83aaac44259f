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
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8080"), "listen address ($CELLGATE_ADDR)")
	directory := flag.String("directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	gateways := reference.MapFlag{}
	flag.Var(gateways, "gateway", "zone=URL of each zone's gateway, comma-separated or repeated")
	cors := flag.String("cors", reference.Env("CELLGATE_CORS", ""), "comma-separated origins allowed to call the API ($CELLGATE_CORS)")
	trace := flag.Bool("trace", false, "write every span to standard output")
	flag.Parse()
	if err := run(*addr, *directory, gateways, reference.ListFlag(*cors), *trace); err != nil {
		os.Exit(reference.ExitStatus("cellrouter", err))
	}
}

func run(addr, directory string, gateways map[string]string, origins []string, trace bool) error {
	if trace {
		shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithConsole(os.Stdout), otelsetup.WithServiceName("cellrouter"))
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
	}
	dir, err := reference.LoadDirectory(directory)
	if err != nil {
		return err
	}
	gws := map[string]zone.Endpoint{}
	for z, u := range gateways {
		gws[z] = zone.Endpoint{URL: u, Transport: tracing.Transport(edge.NewTransport())}
	}
	h, err := reference.NewCellRouter(reference.CellRouterConfig{Directory: dir, Gateways: gws, CORSOrigins: origins})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("api", addr, h)
}
