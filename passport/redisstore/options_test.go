package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
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

// New takes every option with a valid value, and nil for WithClock.
func TestNewTakesEveryOption(t *testing.T) {
	if _, err := redisstore.New(closedClient(t),
		redisstore.WithPrefix("p:"), redisstore.WithRetention(0), redisstore.WithClock(nil),
		redisstore.WithTimeout(2*time.Second), redisstore.WithWaitReplicas(1, time.Second),
		redisstore.WithWaitReplicas(0, 0), redisstore.WithWaitReplicas(1, 0), redisstore.WithNoWaitReplicas(),
		redisstore.WithPingInterval(time.Second),
		redisstore.WithNoticeBound(0), redisstore.WithNoticeBound(time.Second),
		redisstore.WithNoticeKey(make([]byte, 32), 0), redisstore.WithNoticeKey(make([]byte, 64), time.Minute),
	); err != nil {
		t.Fatal(err)
	}
}

// An invalid value is refused by New, naming the option.
func TestNewRefusesInvalidOptions(t *testing.T) {
	for _, o := range []redisstore.Option{
		redisstore.WithPrefix(""),
		redisstore.WithRetention(-time.Second),
		redisstore.WithTimeout(0),
		redisstore.WithTimeout(-time.Second),
		redisstore.WithWaitReplicas(1, -time.Second),
		redisstore.WithWaitReplicas(-1, time.Second),
		redisstore.WithPingInterval(0),
		redisstore.WithPingInterval(-time.Second),
		redisstore.WithNoticeBound(-time.Second),
		redisstore.WithNoticeKey(nil, 0),
		redisstore.WithNoticeKey(make([]byte, 31), 0),
		redisstore.WithNoticeKey(make([]byte, 32), -time.Second),
	} {
		_, err := redisstore.New(closedClient(t), o)
		if err == nil || !strings.Contains(err.Error(), "redisstore: New: "+o.Name()+": ") {
			t.Errorf("New(invalid %s) = %v, want an error naming it", o.Name(), err)
		}
	}
}

func TestNewRefusesZeroOption(t *testing.T) {
	if _, err := redisstore.New(closedClient(t), redisstore.Option{}); err == nil || !strings.Contains(err.Error(), "zero Option") {
		t.Errorf("New(Option{}) = %v, want it refused", err)
	}
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

// The "Options:" list of New's doc is every option of the package.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	optcheck.CheckDocLists(t, ".", map[string][]string{
		"New": {"WithPrefix", "WithRetention", "WithClock", "WithTimeout", "WithWaitReplicas", "WithNoWaitReplicas", "WithPingInterval", "WithNoticeBound", "WithNoticeKey"},
	})
}

// WAIT's timeout must end before the operation's and before the client's
// read of WAIT's answer, or a lagging replica looks like a dead Redis.
func TestNewRefusesAWaitLongerThanItsBounds(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ReadTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	for name, opts := range map[string][]redisstore.Option{
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
