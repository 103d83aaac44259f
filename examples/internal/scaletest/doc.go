// Package scaletest holds the end-to-end test of the scale-out topology:
// the single-service mains built into binaries and run as separate
// processes against one real redis-server (internal/testrig/redistest), two
// gateway replicas of one zone and two cell routers among them. It checks
// that a revocation made through the session storage API reaches a
// gateway replica that has the session's passport cached, and that a
// directory-change notice reaches every router, each within a second.
//
// The test is skipped when redis-server is not installed, and fails
// instead when CI=true. It runs on Linux only: every process it starts is
// in its own process group, killed when the test ends, and dies with the
// test binary (Pdeathsig).
package scaletest
