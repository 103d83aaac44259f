package redistest_test

import (
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
)

func TestServerRestart(t *testing.T) {
	s := redistest.Start(t)
	if _, err := redistest.Command(s.Addr(), "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := redistest.Command(s.Addr(), "GET", "k"); err != nil || v != "v" {
		t.Fatalf("GET = %q, %v", v, err)
	}
	s.Kill()
	if _, err := redistest.Command(s.Addr(), "PING"); err == nil {
		t.Fatal("killed server answered")
	}
	s.Restart()
	if v, err := redistest.Command(s.Addr(), "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after restart = %q, %v", v, err)
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster in -short")
	}
	start := time.Now()
	c := redistest.StartCluster(t, time.Second)
	t.Logf("cluster up in %v", time.Since(start))
	if n := len(c.Masters()); n != 3 {
		t.Fatalf("%d masters, want 3", n)
	}
}

func TestServerPause(t *testing.T) {
	s := redistest.Start(t)
	s.Pause()
	if _, err := redistest.Command(s.Addr(), "PING"); err == nil {
		t.Fatal("paused server answered")
	}
	s.Resume()
	if v, err := redistest.Command(s.Addr(), "PING"); err != nil || v != "PONG" {
		t.Fatalf("PING after resume = %q, %v", v, err)
	}
}
