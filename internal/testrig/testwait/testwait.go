// Package testwait holds the one scale factor of the deadlines in
// cellgate's tests. A deadline in a test is there to catch a hang or a
// missing timeout, never to measure speed: a test states it unscaled, with
// a margin an idle machine meets many times over, and multiplies it by
// [Scale], which a slow or shared machine (CI) raises with
// CELLGATE_TEST_TIMEOUT_SCALE. It is for tests only.
package testwait

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// EnvScale is the environment variable that multiplies every scaled test
// deadline: a positive number such as 2 or 4, default 1. A value that is
// not a positive number panics in the first test that scales, so a typo
// in CI is seen at once rather than running with the default.
const EnvScale = "CELLGATE_TEST_TIMEOUT_SCALE"

// Factor returns the scale of test deadlines from [EnvScale] (1 when it is
// unset or empty).
func Factor() float64 {
	v := os.Getenv(EnvScale)
	if v == "" {
		return 1
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 1000 {
		panic(fmt.Sprintf("testwait: %s=%q: want a positive number up to 1000", EnvScale, v))
	}
	return f
}

// Scale returns d multiplied by [Factor]: a test's deadline on this
// machine.
func Scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Factor())
}

// Until polls cond until it holds, and fails t when it has not within
// limit (scaled by Scale: a deadline that catches a hang, not a speed
// limit). It is for the state of another process that sends no signal to
// wait on (a Redis failover, a server resuming after SIGCONT, a heartbeat
// answered); anything in the test's own process is synchronised instead.
func Until(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	limit = Scale(limit)
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		<-tick.C
	}
}
