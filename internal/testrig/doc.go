// Package testrig is the folder of what only tests use: real-peer
// starters (redistest), the store contract (storetest), the upload rig,
// a fake clock, heap and port helpers, scaled waits. No library package
// imports anything under it; a test of the module's layout enforces that.
package testrig
