// Command authentication serves the internal-only authentication service
// of cellgate's reference topology across processes: gateways POST
// /passports with calls signed with the auth key, cells fetch
// /.well-known/jwks.json. Sessions are read from the session storage API
// (signed with the sessions key). The passport signing key is generated at
// start and never leaves the process.
//
//	go -C examples run ./authentication -addr 127.0.0.1:9000 -sessions-url http://127.0.0.1:8085
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
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:9000"), "internal listen address ($CELLGATE_ADDR)")
	issuer := flag.String("issuer", reference.Env("CELLGATE_ISSUER", "https://auth.cellgate.internal"), "iss of the passports ($CELLGATE_ISSUER)")
	sessions := flag.String("sessions-url", reference.Env("CELLGATE_SESSIONS_URL", "http://127.0.0.1:8085"), "session storage API ($CELLGATE_SESSIONS_URL)")
	keys := flag.String("keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: auth.key, sessions.key ($CELLGATE_KEYS)")
	directory := flag.String("directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	flag.Parse()
	if err := run(*addr, *issuer, *sessions, *keys, *directory); err != nil {
		os.Exit(reference.ExitStatus("authentication", err))
	}
}

func run(addr, iss, sessionsURL, keys, directory string) error {
	dir, err := reference.LoadDirectory(directory)
	if err != nil {
		return err
	}
	authKey, err := reference.LoadKey(keys, "auth")
	if err != nil {
		return err
	}
	signed, err := hmacsig.NewVerifier(hmacsig.Keys{Current: authKey}, hmacsig.WithMaxLifetime(reference.ServiceURLLifetime))
	if err != nil {
		return err
	}
	sessionsKey, err := reference.LoadKey(keys, "sessions")
	if err != nil {
		return err
	}
	signer, err := hmacsig.NewSigner(sessionsKey)
	if err != nil {
		return err
	}
	store, err := passport.NewStoreClient(sessionsURL, &hmacsig.Transport{Signer: signer, Base: edge.NewTransport()})
	if err != nil {
		return err
	}
	key, err := passport.GenerateKey(passport.EdDSA)
	if err != nil {
		return err
	}
	issuer, err := passport.NewIssuer(iss, key)
	if err != nil {
		return err
	}
	h, err := reference.NewAuthentication(reference.AuthenticationConfig{Sessions: store, Issuer: issuer, Directory: dir, Signed: signed})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("authentication", addr, h)
}
