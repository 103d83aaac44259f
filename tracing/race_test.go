//go:build race

package tracing_test

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// it is given, so allocation counts vary from run to run.
const raceEnabled = true
