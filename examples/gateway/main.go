// Command gateway serves the gateway of one zone of cellgate's reference
// topology: it swaps the client's session for a passport minted by the
// authentication service (calls signed with the auth key), serves the
// single-page app under /webclients/, and forwards to the zone's cell, or
// to the replacement backend for the routes named with -replace.
//
//	go -C examples run ./gateway -zone us01 -addr 127.0.0.1:8081 -internal-addr 127.0.0.1:9081 \
//	    -auth-url http://127.0.0.1:9000/passports -cell-url http://127.0.0.1:7001
//
// -addr is the zone's public host, which trusts nothing inbound;
// -internal-addr is for the cell router, whose Cellgate-* headers it
// believes from the networks of -trust.
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
)

type options struct {
	zone, addr, internalAddr, trust  string
	directory, keys, authURL         string
	cellURL, replacementURL, replace string
}

func main() {
	var o options
	flag.StringVar(&o.zone, "zone", reference.Env("CELLGATE_ZONE", "us01"), "the gateway's zone ($CELLGATE_ZONE)")
	flag.StringVar(&o.addr, "addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8081"), "public listen address ($CELLGATE_ADDR)")
	flag.StringVar(&o.internalAddr, "internal-addr", reference.Env("CELLGATE_INTERNAL_ADDR", "127.0.0.1:9081"), "listen address for the cell router ($CELLGATE_INTERNAL_ADDR)")
	flag.StringVar(&o.trust, "trust", reference.Env("CELLGATE_TRUST", "127.0.0.1/32"), "comma-separated networks of the cell router ($CELLGATE_TRUST)")
	flag.StringVar(&o.directory, "directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	flag.StringVar(&o.keys, "keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: auth.key ($CELLGATE_KEYS)")
	flag.StringVar(&o.authURL, "auth-url", reference.Env("CELLGATE_AUTH_URL", "http://127.0.0.1:9000/passports"), "authentication service ($CELLGATE_AUTH_URL)")
	flag.StringVar(&o.cellURL, "cell-url", reference.Env("CELLGATE_CELL_URL", "http://127.0.0.1:7001"), "the zone's cell ($CELLGATE_CELL_URL)")
	flag.StringVar(&o.replacementURL, "replacement-url", reference.Env("CELLGATE_REPLACEMENT_URL", ""), "strangler: the replacement backend ($CELLGATE_REPLACEMENT_URL)")
	flag.StringVar(&o.replace, "replace", reference.Env("CELLGATE_REPLACE", ""), "strangler: comma-separated ServeMux patterns served by the replacement ($CELLGATE_REPLACE)")
	flag.Parse()
	if err := run(o); err != nil {
		os.Exit(reference.ExitStatus("gateway", err))
	}
}

func run(o options) error {
	trust, err := edge.TrustNetworks(reference.ListFlag(o.trust)...)
	if err != nil {
		return err
	}
	dir, err := reference.LoadDirectory(o.directory)
	if err != nil {
		return err
	}
	key, err := reference.LoadKey(o.keys, "auth")
	if err != nil {
		return err
	}
	signer, err := hmacsig.NewSigner(key)
	if err != nil {
		return err
	}
	gw, err := reference.NewGateway(reference.GatewayConfig{
		Zone:          o.zone,
		Directory:     dir,
		AuthURL:       o.authURL,
		AuthTransport: &hmacsig.Transport{Signer: signer, Base: edge.NewTransport()},
		Cell:          reference.Upstream{URL: o.cellURL},
		Replace:       reference.ListFlag(o.replace),
		Replacement:   reference.Upstream{URL: o.replacementURL},
		Trust:         trust,
	})
	if err != nil {
		return err
	}
	public, err := reference.Listen(o.zone, o.addr, gw.Public)
	if err != nil {
		return err
	}
	internal, err := reference.Listen(o.zone+"-internal", o.internalAddr, gw.Internal)
	if err != nil {
		public.Listener.Close()
		return err
	}
	return reference.ServeUntilSignal(public, internal)
}
