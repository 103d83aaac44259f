// Command sessionstorage serves the session storage API of cellgate's
// reference topology: sessions written by login services, read by
// authentication, revoked by any internal system, every call signed with
// the sessions key (see examples/signurl). Sessions are kept in memory.
//
//	go -C examples run ./sessionstorage -addr 127.0.0.1:9085
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8085"), "listen address ($CELLGATE_ADDR)")
	keys := flag.String("keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: sessions.key, generated when missing ($CELLGATE_KEYS)")
	flag.Parse()
	if err := run(*addr, *keys); err != nil {
		os.Exit(reference.ExitStatus("sessionstorage", err))
	}
}

func run(addr, keys string) error {
	key, err := reference.LoadKey(keys, "sessions")
	if err != nil {
		return err
	}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	if err != nil {
		return err
	}
	store, err := passport.NewMemoryStore()
	if err != nil {
		return err
	}
	h, err := reference.NewSessionStorage(reference.SessionStorageConfig{Store: store, Verifier: v})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("sessions", addr, h)
}
