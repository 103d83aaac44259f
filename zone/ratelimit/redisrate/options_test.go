package redisrate_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// closedClient is a client of a port nothing listens on: the constructors
// do not dial, so the option tests need no Redis.
func closedClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { c.Close() })
	return c
}

// constructors builds each constructor of the package on client with opts.
var constructors = map[string]struct {
	reads []string
	build func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...redisrate.Option) error
}{
	"New": {[]string{"WithPrefix", "WithTimeout", "WithKey", "WithObserver"},
		func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...redisrate.Option) error {
			_, err := redisrate.New(client, limit, burst, opts...)
			return err
		}},
	"NewLimiter": {[]string{"WithPrefix", "WithTimeout"},
		func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...redisrate.Option) error {
			_, err := redisrate.NewLimiter(client, limit, burst, opts...)
			return err
		}},
}

// Every constructor takes each option it reads and refuses, naming
// constructor and option, each one it does not.
func TestOptionsRefused(t *testing.T) {
	valid := []redisrate.Option{
		redisrate.WithPrefix("p:"), redisrate.WithTimeout(time.Second),
		redisrate.WithKey(func(*http.Request) string { return "k" }), redisrate.WithKey(nil),
		redisrate.WithObserver(nil),
	}
	for name, ctor := range constructors {
		for _, o := range valid {
			err := ctor.build(closedClient(t), 1, 1, o)
			reads := false
			for _, r := range ctor.reads {
				reads = reads || r == o.Name()
			}
			switch {
			case reads && err != nil:
				t.Errorf("%s(%s) = %v, want it taken", name, o.Name(), err)
			case !reads && (err == nil || !strings.Contains(err.Error(), "redisrate: "+name+" does not take option "+o.Name())):
				t.Errorf("%s(%s) = %v, want an error naming both", name, o.Name(), err)
			}
		}
	}
}

// An invalid value is refused by every constructor that reads the option,
// naming both.
func TestOptionsInvalid(t *testing.T) {
	for _, o := range []redisrate.Option{
		redisrate.WithPrefix(""),
		redisrate.WithTimeout(0),
		redisrate.WithTimeout(-time.Second),
	} {
		for name, ctor := range constructors {
			err := ctor.build(closedClient(t), 1, 1, o)
			if err == nil || !strings.Contains(err.Error(), "redisrate: "+name+": "+o.Name()+": ") {
				t.Errorf("%s(invalid %s) = %v, want an error naming both", name, o.Name(), err)
			}
		}
	}
}

func TestZeroOptionRefused(t *testing.T) {
	for name, ctor := range constructors {
		if err := ctor.build(closedClient(t), 1, 1, redisrate.Option{}); err == nil || !strings.Contains(err.Error(), "zero Option") {
			t.Errorf("%s(Option{}) = %v, want it refused", name, err)
		}
	}
}

// The client, limit and burst are checked by both constructors.
func TestPositionalInvalid(t *testing.T) {
	client := closedClient(t)
	for name, ctor := range constructors {
		for what, err := range map[string]error{
			"nil client":     ctor.build(nil, 1, 1),
			"zero limit":     ctor.build(client, 0, 1),
			"infinite limit": ctor.build(client, rate.Inf, 1),
			"NaN limit":      ctor.build(client, rate.Limit(math.NaN()), 1),
			"huge limit":     ctor.build(client, 2e6, 1),
			"zero burst":     ctor.build(client, 1, 0),
		} {
			if err == nil {
				t.Errorf("%s: %s accepted", name, what)
			}
		}
	}
}

// The "Options:" list in each constructor's doc is the list it reads.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	reads := make(map[string][]string, len(constructors))
	for name, ctor := range constructors {
		reads[name] = ctor.reads
	}
	optcheck.CheckDocLists(t, ".", reads)
}
