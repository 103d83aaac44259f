package redisrate_test

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/compilecheck"
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

// An option of New only (WithKeyFunc, WithObserver) given to NewLimiter is
// a compile error in the user's module.
func TestMisplacedOptionsDoNotCompile(t *testing.T) {
	const head = `package main

import (
	"net/http"
	"time"

	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
)

var _, _ = time.Second, http.NotFoundHandler

func main() {
	client := redis.NewClient(&redis.Options{})
	key := func(*http.Request) string { return "k" }
	_ = key
`
	ok := head + `	_, _ = redisrate.NewLimiter(client, 1, 1, redisrate.WithKeyPrefix("p:"), redisrate.WithTimeout(time.Second))
	_, _ = redisrate.New(client, 1, 1, redisrate.WithKeyPrefix("p:"), redisrate.WithKeyFunc(key))
}
`
	misuse := head + `	_, _ = redisrate.NewLimiter(client, 1, 1, redisrate.WithKeyPrefix("p:"), redisrate.WithKeyFunc(key))
	_, _ = redisrate.New(client, 1, 1, redisrate.WithKeyPrefix("p:"), redisrate.WithKeyFunc(key))
}
`
	compilecheck.Fails(t, ok, misuse,
		regexp.MustCompile(`cannot use redisrate\.WithKeyFunc\(key\) .*as redisrate\.LimiterOption value in argument to redisrate\.NewLimiter`))
}

// constructors builds each constructor of the package on client with the
// options both read.
var constructors = map[string]func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...interface {
	redisrate.Option
	redisrate.LimiterOption
}) error{
	"New": func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...interface {
		redisrate.Option
		redisrate.LimiterOption
	}) error {
		list := make([]redisrate.Option, len(opts))
		for i, o := range opts {
			list[i] = o
		}
		_, err := redisrate.New(client, limit, burst, list...)
		return err
	},
	"NewLimiter": func(client redis.UniversalClient, limit rate.Limit, burst int, opts ...interface {
		redisrate.Option
		redisrate.LimiterOption
	}) error {
		list := make([]redisrate.LimiterOption, len(opts))
		for i, o := range opts {
			list[i] = o
		}
		_, err := redisrate.NewLimiter(client, limit, burst, list...)
		return err
	},
}

// Both constructors take the options they share, and zero is the default.
func TestOptionsTaken(t *testing.T) {
	for name, build := range constructors {
		for _, o := range []interface {
			redisrate.Option
			redisrate.LimiterOption
		}{redisrate.WithKeyPrefix("p:"), redisrate.WithKeyPrefix(""), redisrate.WithTimeout(time.Second), redisrate.WithTimeout(0)} {
			if err := build(closedClient(t), 1, 1, o); err != nil {
				t.Errorf("%s(%v) = %v, want it taken", name, o, err)
			}
		}
	}
	if _, err := redisrate.New(closedClient(t), 1, 1, redisrate.WithKeyFunc(nil), redisrate.WithObserver(nil)); err != nil {
		t.Error(err)
	}
}

// An invalid value is refused by every constructor that reads the option,
// naming both.
func TestOptionsInvalid(t *testing.T) {
	for name, build := range constructors {
		err := build(closedClient(t), 1, 1, redisrate.WithTimeout(-time.Second))
		if err == nil || !strings.Contains(err.Error(), "redisrate: "+name+": WithTimeout: ") {
			t.Errorf("%s(WithTimeout(-1s)) = %v, want an error naming both", name, err)
		}
	}
}

// A nil option or the zero value of a shared option type is an error, not
// a panic.
func TestZeroOptionRefused(t *testing.T) {
	for name, build := range constructors {
		for _, o := range []interface {
			redisrate.Option
			redisrate.LimiterOption
		}{nil, redisrate.KeyPrefixOption{}, redisrate.TimeoutOption{}} {
			if err := build(closedClient(t), 1, 1, o); err == nil || !strings.Contains(err.Error(), "redisrate: "+name+": zero Option") {
				t.Errorf("%s(%#v) = %v, want it refused", name, o, err)
			}
		}
	}
	var nilOpt redisrate.Option
	if _, err := redisrate.New(closedClient(t), 1, 1, nilOpt); err == nil {
		t.Error("New took a nil Option")
	}
}

// The client, limit and burst are checked by both constructors.
func TestPositionalInvalid(t *testing.T) {
	client := closedClient(t)
	for name, build := range constructors {
		for what, err := range map[string]error{
			"nil client":     build(nil, 1, 1),
			"zero limit":     build(client, 0, 1),
			"infinite limit": build(client, rate.Inf, 1),
			"NaN limit":      build(client, rate.Limit(math.NaN()), 1),
			"huge limit":     build(client, 2e6, 1),
			"zero burst":     build(client, 1, 0),
		} {
			if err == nil {
				t.Errorf("%s: %s accepted", name, what)
			}
		}
	}
}
