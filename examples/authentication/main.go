// Command authentication serves the internal-only authentication service
// of cellgate's reference topology across processes: gateways POST
// /passports with calls signed with the auth key, cells fetch
// /.well-known/jwks.json. Sessions are read from the session storage API
// (signed with the sessions key). The passport signing key is generated at
// start and never leaves the process.
//
//	go -C examples run ./authentication -addr 127.0.0.1:9000 -sessions-url http://127.0.0.1:8085
//
// With -redis (comma-separated addresses; several are a Redis Cluster) it
// reads sessions straight from Redis (passport/redisstore), where the
// session storage keeps them, instead of through the session storage API:
// one hop less on every passport minted, and -sessions-url and the sessions
// key are not used. Its directory cache then follows directory-change
// notices (zone/redisnotice), as the gateways' do, and a -directory file is
// read again on each cache miss. When Redis is down, minting answers 503
// session_store_unavailable (Retry-After: 1), which gateways pass on as 502
// auth_unavailable while they keep serving the passports they have cached.
//
//	go -C examples run ./authentication -addr 127.0.0.1:9000 -redis 127.0.0.1:6379
//
// Bind it to an internal address only: it refuses unsigned calls (403
// internal_only) anyway, but nothing outside needs to reach it.
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
)

type options struct {
	addr, issuer, sessionsURL, keys, directory string
	redis                                      []string
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:9000"), "internal listen address ($CELLGATE_ADDR)")
	flag.StringVar(&o.issuer, "issuer", reference.Env("CELLGATE_ISSUER", "https://auth.cellgate.internal"), "iss of the passports ($CELLGATE_ISSUER)")
	flag.StringVar(&o.sessionsURL, "sessions-url", reference.Env("CELLGATE_SESSIONS_URL", "http://127.0.0.1:8085"), "session storage API; not used with -redis ($CELLGATE_SESSIONS_URL)")
	flag.StringVar(&o.keys, "keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: auth.key, sessions.key; notices.key signs Redis notices when present ($CELLGATE_KEYS)")
	flag.StringVar(&o.directory, "directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	redisAddrs := flag.String("redis", reference.Env("CELLGATE_REDIS", ""), "comma-separated Redis addresses (several: Cluster) to read sessions from directly; empty: through -sessions-url ($CELLGATE_REDIS)")
	flag.Parse()
	o.redis = reference.ListFlag(*redisAddrs)
	if err := run(o); err != nil {
		os.Exit(reference.ExitStatus("authentication", err))
	}
}

func run(o options) error {
	var (
		dir *zone.CachingDirectory
		err error
	)
	if len(o.redis) > 0 {
		dir, err = reference.LoadSharedDirectory(o.directory)
	} else {
		dir, err = reference.LoadDirectory(o.directory)
	}
	if err != nil {
		return err
	}
	authKey, err := reference.LoadKey(o.keys, "auth")
	if err != nil {
		return err
	}
	signed, err := hmacsig.NewVerifier(hmacsig.Keys{Current: authKey}, hmacsig.WithMaxLifetime(reference.ServiceURLLifetime))
	if err != nil {
		return err
	}
	var store passport.Store
	if len(o.redis) > 0 {
		noticeKey, err := reference.NoticeKey(o.keys)
		if err != nil {
			return err
		}
		client, err := reference.NewRedisClient("authentication", o.redis)
		if err != nil {
			return err
		}
		defer client.Close()
		rs, err := redisstore.New(client, reference.StoreNoticeOptions(noticeKey)...)
		if err != nil {
			return err
		}
		defer rs.Close()
		notices, err := redisnotice.New(client, reference.DirectoryNoticeOptions(noticeKey)...)
		if err != nil {
			return err
		}
		defer notices.Close()
		defer notices.Watch(dir)()
		store = rs
	} else {
		sessionsKey, err := reference.LoadKey(o.keys, "sessions")
		if err != nil {
			return err
		}
		signer, err := hmacsig.NewSigner(sessionsKey)
		if err != nil {
			return err
		}
		if store, err = passport.NewStoreClient(passport.Endpoint{URL: o.sessionsURL, Transport: &hmacsig.Transport{Signer: signer, Base: edge.NewTransport()}}); err != nil {
			return err
		}
	}
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		return err
	}
	experiments, err := reference.Experiments() // the gateways count the same
	if err != nil {
		return err
	}
	issuer, err := passport.NewIssuer(o.issuer, key, reference.AssignVariants(experiments))
	if err != nil {
		return err
	}
	geo, _, err := reference.Geofencing(nil, "", nil, nil) // residency: the regions of the examples' zones
	if err != nil {
		return err
	}
	h, err := reference.NewAuthentication(reference.AuthenticationConfig{Sessions: store, Issuer: issuer, Directory: dir, Signed: signed,
		Residency: geo.Residency})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("authentication", o.addr, h)
}
