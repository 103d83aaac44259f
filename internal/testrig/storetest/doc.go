// Package storetest is the contract every passport.Store keeps, as a test
// suite: run it against each implementation (the memory store, Redis on a
// single node, Redis Cluster) so they cannot drift apart.
package storetest
