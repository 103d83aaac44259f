package redisstore_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// closedClient is a client of a port nothing listens on: New does not dial,
// so the option tests need no Redis.
func closedClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { c.Close() })
	return c
}

// New takes every option with a valid value, and zero, "" or nil for the
// default.
func TestNewTakesEveryOption(t *testing.T) {
	if _, err := redisstore.New(closedClient(t),
		redisstore.WithKeyPrefix("p:"), redisstore.WithKeyPrefix(""), redisstore.WithRetention(0), redisstore.WithoutRetention(),
		redisstore.WithClock(nil), redisstore.WithTimeout(2*time.Second), redisstore.WithTimeout(0),
		redisstore.WithWaitReplicas(1, time.Second), redisstore.WithWaitReplicas(0, 0), redisstore.WithWaitReplicas(1, 0),
		redisstore.WithNoWaitReplicas(), redisstore.WithPingInterval(time.Second), redisstore.WithPingInterval(0),
		redisstore.WithNoticeBound(0), redisstore.WithNoticeBound(time.Second),
		redisstore.WithNoticeKey(make([]byte, 32), 0), redisstore.WithNoticeKey(make([]byte, 64), time.Minute),
	); err != nil {
		t.Fatal(err)
	}
}

// An invalid value is refused by New, naming the option.
func TestNewRefusesInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  redisstore.StoreOption
	}{
		{"WithRetention", redisstore.WithRetention(-time.Second)},
		{"WithTimeout", redisstore.WithTimeout(-time.Second)},
		{"WithWaitReplicas", redisstore.WithWaitReplicas(1, -time.Second)},
		{"WithWaitReplicas", redisstore.WithWaitReplicas(-1, time.Second)},
		{"WithPingInterval", redisstore.WithPingInterval(-time.Second)},
		{"WithNoticeBound", redisstore.WithNoticeBound(-time.Second)},
		{"WithNoticeKey", redisstore.WithNoticeKey(nil, 0)},
		{"WithNoticeKey", redisstore.WithNoticeKey(make([]byte, 31), 0)},
		{"WithNoticeKey", redisstore.WithNoticeKey(make([]byte, 32), -time.Second)},
	} {
		_, err := redisstore.New(closedClient(t), tc.opt)
		if err == nil || !strings.Contains(err.Error(), "redisstore: New: "+tc.name+": ") {
			t.Errorf("New(invalid %s) = %v, want an error naming it", tc.name, err)
		}
	}
}

func TestNewRefusesNilOption(t *testing.T) {
	if _, err := redisstore.New(closedClient(t), nil); err == nil || !strings.Contains(err.Error(), "zero Option") {
		t.Errorf("New(nil) = %v, want it refused", err)
	}
}

// An option of another package does not compile as a StoreOption, nor
// does a prefix given where a retention belongs.
func TestMisplacedOptionDoesNotCompile(t *testing.T) {
	program := func(use string) string {
		return `package main

import (
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

var _ = passport.DefaultRetention

func main() {
	_, _ = redisstore.New(redis.NewClient(&redis.Options{}), ` + use + `)
}
`
	}
	compilecheck.Fails(t, program(`redisstore.WithRetention(passport.DefaultRetention)`),
		program(`passport.WithRetention(passport.DefaultRetention)`),
		regexp.MustCompile(`passport.MemoryStoreOption does not implement redisstore.StoreOption`))
}

func TestNewRefusesBadArguments(t *testing.T) {
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := redisstore.New(ring, redisstore.WithWaitReplicas(1, time.Second)); err == nil {
		t.Error("WithWaitReplicas accepted a Ring, which cannot WAIT on the write's node")
	}
	if _, err := redisstore.New(ring); err != nil {
		t.Errorf("New(ring) = %v, want a Ring taken without WithWaitReplicas", err)
	}
	if _, err := redisstore.New(ring, redisstore.WithWaitReplicas(0, time.Millisecond)); err != nil {
		t.Errorf("New(ring, WithWaitReplicas(0, …)) = %v, want the default: a Ring does not wait", err)
	}
	if _, err := redisstore.New(nil); err == nil {
		t.Error("New accepted a nil client")
	}
}

// WAIT's timeout must end before the operation's and before the client's
// read of WAIT's answer, or a lagging replica looks like a dead Redis.
func TestNewRefusesAWaitLongerThanItsBounds(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	for name, opts := range map[string][]redisstore.StoreOption{
		"WithTimeout": {redisstore.WithTimeout(time.Second), redisstore.WithWaitReplicas(1, time.Second)},
		"ReadTimeout": {redisstore.WithTimeout(time.Second), redisstore.WithWaitReplicas(1, 500*time.Millisecond)},
	} {
		if _, err := redisstore.New(client, opts...); err == nil || !strings.Contains(err.Error(), "redisstore: New: WithWaitReplicas: ") ||
			!strings.Contains(err.Error(), name) {
			t.Errorf("a wait as long as %s: New = %v, want it refused", name, err)
		}
	}
	// The default is clamped to both instead.
	if _, err := redisstore.New(client, redisstore.WithTimeout(100*time.Millisecond), redisstore.WithWaitReplicas(1, 0)); err != nil {
		t.Errorf("the default wait with short bounds: %v", err)
	}
}
