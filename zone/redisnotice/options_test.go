package redisnotice_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
	"github.com/cellgate/cellgate/zone/redisnotice"
	"github.com/redis/go-redis/v9"
)

// closedClient is a client of a port nothing listens on: New does not dial,
// so the option tests need no Redis.
func closedClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { c.Close() })
	return c
}

// Another package's option of the same name (zone.WithClock, for the
// caching directory the notices feed) given to New is a compile error.
func TestForeignOptionDoesNotCompile(t *testing.T) {
	const head = `package main

import (
	"time"

	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
	"github.com/redis/go-redis/v9"
)

var _ = zone.WithClock

func main() {
	client := redis.NewClient(&redis.Options{})
`
	ok := head + `	_, _ = redisnotice.New(client, redisnotice.WithClock(time.Now))
}
`
	misuse := head + `	_, _ = redisnotice.New(client, zone.WithClock(time.Now))
}
`
	compilecheck.Fails(t, ok, misuse,
		regexp.MustCompile(`cannot use zone\.WithClock\(time\.Now\) .*as redisnotice\.Option value in argument to redisnotice\.New`))
}

func TestNewTakesEveryOption(t *testing.T) {
	if _, err := redisnotice.New(closedClient(t), redisnotice.WithChannel("c"), redisnotice.WithPingTimeout(time.Second),
		redisnotice.WithNoticeBound(0), redisnotice.WithNoticeBound(time.Second),
		redisnotice.WithNoticeKey(make([]byte, 32), 0), redisnotice.WithNoticeKey(make([]byte, 64), time.Minute),
		redisnotice.WithClock(nil), redisnotice.WithClock(time.Now)); err != nil {
		t.Fatal(err)
	}
	// Zero is the default.
	if _, err := redisnotice.New(closedClient(t), redisnotice.WithChannel(""), redisnotice.WithPingTimeout(0)); err != nil {
		t.Fatal(err)
	}
}

// An invalid value is refused by New, naming the option.
func TestNewRefusesInvalidOptions(t *testing.T) {
	for name, o := range map[string]redisnotice.Option{
		"WithPingTimeout": redisnotice.WithPingTimeout(-time.Second),
		"WithNoticeBound": redisnotice.WithNoticeBound(-time.Second),
		"WithNoticeKey":   redisnotice.WithNoticeKey(nil, 0),
	} {
		_, err := redisnotice.New(closedClient(t), o)
		if err == nil || !strings.Contains(err.Error(), "redisnotice: New: "+name+": ") {
			t.Errorf("New(invalid %s) = %v, want an error naming it", name, err)
		}
	}
	for _, o := range []redisnotice.Option{
		redisnotice.WithNoticeKey(make([]byte, 31), 0),
		redisnotice.WithNoticeKey(make([]byte, 32), -time.Second),
	} {
		if _, err := redisnotice.New(closedClient(t), o); err == nil || !strings.Contains(err.Error(), "redisnotice: New: WithNoticeKey: ") {
			t.Errorf("New(invalid WithNoticeKey) = %v, want an error naming it", err)
		}
	}
}

func TestNewRefusesNilOption(t *testing.T) {
	if _, err := redisnotice.New(closedClient(t), nil); err == nil || !strings.Contains(err.Error(), "redisnotice: New: zero Option") {
		t.Errorf("New(nil) = %v, want it refused", err)
	}
}

func TestNewRefusesNilClient(t *testing.T) {
	if _, err := redisnotice.New(nil); err == nil {
		t.Error("nil client accepted")
	}
}
