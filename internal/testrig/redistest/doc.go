// Package redistest starts real redis-server processes for tests: a single
// node or a local Cluster of three masters with one replica each, on free
// loopback ports below the kernel's ephemeral range (internal/testport: a
// server that finds its port taken is started again on another), with their
// files in t.TempDir(). Servers stop when the test
// ends. When redis-server is not installed the test is skipped, unless the
// environment says CI=true, where it fails: CI must not skip the Redis tests.
//
// It uses the standard library only, so the library module does not depend
// on a Redis client for its test helpers.
package redistest
