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
//
// Replicas: with -redis (comma-separated addresses; several are a Redis
// Cluster) the gateway subscribes its passport cache to the revocations
// made on any replica of the session storage (passport/redisstore), and its
// directory cache to directory-change notices (zone/redisnotice), so any
// number of gateways of one zone can serve side by side. Both caches are
// trusted only while their notices are proven fresh (within a second): a
// gateway cut off from Redis asks authentication and the directory, or
// refuses. A -directory file is then read again on each cache miss: edit
// it, then publish the moved company (redis-cli PUBLISH
// cellgate:directory 42, or redisnotice.Publish under the notices key when
// the key directory holds notices.key: notices are then signed and a bare
// PUBLISH is dropped). Without -redis a revoked session keeps its cached
// passport for up to the cache TTL (one minute) on a gateway of another
// process.
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
)

type options struct {
	zone, addr, internalAddr, trust  string
	directory, keys, authURL         string
	cellURL, replacementURL, replace string
	coalesce                         string
	redis                            string
	geofencing                       func() (*reference.GeofenceConfig, func(), error)
}

func main() {
	var o options
	flag.StringVar(&o.zone, "zone", reference.Env("CELLGATE_ZONE", "us01"), "the gateway's zone ($CELLGATE_ZONE)")
	flag.StringVar(&o.addr, "addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8081"), "public listen address ($CELLGATE_ADDR)")
	flag.StringVar(&o.internalAddr, "internal-addr", reference.Env("CELLGATE_INTERNAL_ADDR", "127.0.0.1:9081"), "listen address for the cell router ($CELLGATE_INTERNAL_ADDR)")
	flag.StringVar(&o.trust, "trust", reference.Env("CELLGATE_TRUST", "127.0.0.1/32"), "comma-separated networks of the cell router ($CELLGATE_TRUST)")
	flag.StringVar(&o.directory, "directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	flag.StringVar(&o.keys, "keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: auth.key; notices.key signs Redis notices when present ($CELLGATE_KEYS)")
	flag.StringVar(&o.authURL, "auth-url", reference.Env("CELLGATE_AUTH_URL", "http://127.0.0.1:9000/passports"), "authentication service ($CELLGATE_AUTH_URL)")
	flag.StringVar(&o.cellURL, "cell-url", reference.Env("CELLGATE_CELL_URL", "http://127.0.0.1:7001"), "the zone's cell ($CELLGATE_CELL_URL)")
	flag.StringVar(&o.replacementURL, "replacement-url", reference.Env("CELLGATE_REPLACEMENT_URL", ""), "strangler: the replacement backend ($CELLGATE_REPLACEMENT_URL)")
	flag.StringVar(&o.coalesce, "coalesce", reference.Env("CELLGATE_COALESCE", ""), "comma-separated ServeMux patterns whose identical concurrent GETs share one call to the cell ($CELLGATE_COALESCE)")
	flag.StringVar(&o.replace, "replace", reference.Env("CELLGATE_REPLACE", ""), "strangler: comma-separated ServeMux patterns served by the replacement ($CELLGATE_REPLACE)")
	flag.StringVar(&o.redis, "redis", reference.Env("CELLGATE_REDIS", ""), "comma-separated Redis addresses (several: Cluster) for revocation and directory notices across replicas; empty: none ($CELLGATE_REDIS)")
	o.geofencing = reference.GeofenceFlags()
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
	redisAddrs := reference.ListFlag(o.redis)
	var dir *zone.CachingDirectory
	if len(redisAddrs) > 0 {
		dir, err = reference.LoadSharedDirectory(o.directory)
	} else {
		dir, err = reference.LoadDirectory(o.directory)
	}
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
	experiments, err := reference.Experiments() // the authentication service assigns the same
	if err != nil {
		return err
	}
	geo, stopGeo, err := o.geofencing()
	if err != nil {
		return err
	}
	defer stopGeo()
	gw, err := reference.NewGateway(reference.GatewayConfig{
		Geofence:      geo,
		Zone:          o.zone,
		Directory:     dir,
		AuthURL:       o.authURL,
		AuthTransport: &hmacsig.Transport{Signer: signer, Base: edge.NewTransport(), ContentDigest: true},
		Cell:          reference.Upstream{URL: o.cellURL},
		Replace:       reference.ListFlag(o.replace),
		Coalesce:      reference.ListFlag(o.coalesce),
		Replacement:   reference.Upstream{URL: o.replacementURL},
		Trust:         trust,
		Experiments:   experiments,
	})
	if err != nil {
		return err
	}
	if len(redisAddrs) > 0 {
		stop, err := shareState(redisAddrs, o.keys, gw, dir)
		if err != nil {
			return err
		}
		defer stop()
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

// shareState subscribes gw's passport cache to the revocations made on any
// replica and dir to directory-change notices, through the Redis at addrs.
// stop undoes it.
func shareState(addrs []string, keys string, gw *reference.Gateway, dir *zone.CachingDirectory) (stop func(), err error) {
	noticeKey, err := reference.NoticeKey(keys)
	if err != nil {
		return nil, err
	}
	client, err := reference.NewRedisClient("gateway", addrs)
	if err != nil {
		return nil, err
	}
	store, err := redisstore.New(client, reference.StoreNoticeOptions(noticeKey)...) // only its notices: sessions are read by authentication
	if err != nil {
		client.Close()
		return nil, err
	}
	notices, err := redisnotice.New(client, reference.DirectoryNoticeOptions(noticeKey)...)
	if err != nil {
		store.Close()
		client.Close()
		return nil, err
	}
	unsubscribe := gw.Watch(store)
	unwatch := notices.Watch(dir)
	return func() {
		unwatch()
		unsubscribe()
		notices.Close()
		store.Close()
		client.Close()
	}, nil
}
