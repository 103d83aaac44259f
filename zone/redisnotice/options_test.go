package redisnotice_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
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

func TestNewTakesEveryOption(t *testing.T) {
	if _, err := redisnotice.New(closedClient(t), redisnotice.WithChannel("c"), redisnotice.WithPingInterval(time.Second),
		redisnotice.WithNoticeBound(0), redisnotice.WithNoticeBound(time.Second),
		redisnotice.WithNoticeKey(make([]byte, 32), 0), redisnotice.WithNoticeKey(make([]byte, 64), time.Minute),
		redisnotice.WithClock(nil), redisnotice.WithClock(time.Now)); err != nil {
		t.Fatal(err)
	}
}

// An invalid value is refused by New, naming the option.
func TestNewRefusesInvalidOptions(t *testing.T) {
	for _, o := range []redisnotice.Option{
		redisnotice.WithChannel(""),
		redisnotice.WithPingInterval(0),
		redisnotice.WithPingInterval(-time.Second),
		redisnotice.WithNoticeBound(-time.Second),
		redisnotice.WithNoticeKey(nil, 0),
		redisnotice.WithNoticeKey(make([]byte, 31), 0),
		redisnotice.WithNoticeKey(make([]byte, 32), -time.Second),
	} {
		_, err := redisnotice.New(closedClient(t), o)
		if err == nil || !strings.Contains(err.Error(), "redisnotice: New: "+o.Name()+": ") {
			t.Errorf("New(invalid %s) = %v, want an error naming it", o.Name(), err)
		}
	}
}

func TestNewRefusesZeroOption(t *testing.T) {
	if _, err := redisnotice.New(closedClient(t), redisnotice.Option{}); err == nil || !strings.Contains(err.Error(), "zero Option") {
		t.Errorf("New(Option{}) = %v, want it refused", err)
	}
}

func TestNewRefusesNilClient(t *testing.T) {
	if _, err := redisnotice.New(nil); err == nil {
		t.Error("nil client accepted")
	}
}

// The "Options:" list of New's doc is every option of the package.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	optcheck.CheckDocLists(t, ".", map[string][]string{"New": {"WithChannel", "WithPingInterval", "WithNoticeBound", "WithNoticeKey", "WithClock"}})
}
