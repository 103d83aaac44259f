package redissub

import (
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/redis/go-redis/v9"
)

// The heartbeat's pongs move ProvenAt past the subscription, to the send
// time of a ping (on the Config's clock). That they stop through a
// black-holed connection is shown by the partition tests of redisstore
// and redisnotice.
func TestHeartbeatProvesThePath(t *testing.T) {
	srv := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	clk := fakeclock.New(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	subscribed := make(chan struct{}, 16)
	s := Start(c, Config{Channel: "hb", Heartbeat: 10 * time.Millisecond, Renew: time.Hour, Now: clk.Now},
		Handler{Subscribed: func() { subscribed <- struct{}{} }, Message: func(string) {}})
	t.Cleanup(s.Close)
	select {
	case <-subscribed:
	case <-time.After(20 * time.Second):
		t.Fatal("not subscribed within 20s")
	}
	waitProven := func(after time.Time) {
		t.Helper()
		testwait.Until(t, 20*time.Second, "ProvenAt after "+after.String(), func() bool { return s.ProvenAt().After(after) })
	}
	waitProven(time.Time{})
	clk.Advance(time.Minute) // only a ping sent from now on can prove this
	waitProven(clk.Now().Add(-time.Nanosecond))

}
