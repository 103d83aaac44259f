// Command sessionstorage serves the session storage API of cellgate's
// reference topology: sessions written by login services, read by
// authentication, revoked by any internal system, every call signed with
// the sessions key (see examples/signurl). Sessions are kept in memory, or
// in Redis with -redis (passport/redisstore), where every replica of the
// session storage, authentication and the gateways shares them and each
// revocation is announced to every gateway.
//
//	go -C examples run ./sessionstorage -addr 127.0.0.1:9085
//	go -C examples run ./sessionstorage -addr 127.0.0.1:9085 -redis 127.0.0.1:6379
//
// -redis takes comma-separated addresses: one is a single node, several are
// a Redis Cluster. When Redis is down, calls answer 503
// session_store_unavailable and succeed again once it is back. With a
// Cluster, a session write or revocation is answered 204 only once a
// replica of its master has it (-redis-replicas, default 1), so a
// revocation acknowledged survives the loss of any one Redis node; while
// a master has no replica in step (a replica lagging or down, or a
// failover that left the new master without one) its writes answer 503
// and the caller retries.
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8085"), "listen address ($CELLGATE_ADDR)")
	keys := flag.String("keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: sessions.key, generated when missing; notices.key signs Redis notices when present ($CELLGATE_KEYS)")
	redisAddrs := flag.String("redis", reference.Env("CELLGATE_REDIS", ""), "comma-separated Redis addresses (several: Cluster) to keep sessions in; empty: in memory ($CELLGATE_REDIS)")
	replicas := flag.Int("redis-replicas", -1, "replicas of its master that must have each session write and revocation before it is acknowledged; -1: 1 with a Cluster, 0 with a single node")
	flag.Parse()
	if err := run(*addr, *keys, reference.ListFlag(*redisAddrs), *replicas); err != nil {
		os.Exit(reference.ExitStatus("sessionstorage", err))
	}
}

func run(addr, keys string, redisAddrs []string, replicas int) error {
	key, err := reference.LoadKey(keys, "sessions")
	if err != nil {
		return err
	}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
	if err != nil {
		return err
	}
	var store passport.Store
	if len(redisAddrs) == 0 {
		if store, err = passport.NewMemoryStore(); err != nil {
			return err
		}
	} else {
		noticeKey, err := reference.NoticeKey(keys)
		if err != nil {
			return err
		}
		client, err := reference.NewRedisClient("sessionstorage", redisAddrs)
		if err != nil {
			return err
		}
		defer client.Close()
		rs, err := redisstore.New(client, append(reference.RedisStoreOptions(redisAddrs, replicas), reference.StoreNoticeOptions(noticeKey)...)...)
		if err != nil {
			return err
		}
		defer rs.Close()
		store = rs
	}
	h, err := reference.NewSessionStorage(reference.SessionStorageConfig{Store: store, Verifier: v})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("sessions", addr, h)
}
