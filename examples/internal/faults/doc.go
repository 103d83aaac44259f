// Package faults holds cellgate's fault-injection suite: the reference
// services (cell router, gateway, authentication, the upload handler) run
// in-process in front of fakes that refuse, hang, fail, answer garbage,
// reset connections mid-response or stall, and a real MinIO that is killed,
// paused and resumed. Each case is bounded in time and asserts what a client
// sees (status, problem code, a latency bound) and that goroutines and file
// descriptors return to their baseline.
//
// The package has no non-test code; run it with
//
//	go -C examples test ./internal/faults -v
//
// and read the "fault |" lines for the table of fault, expected and
// observed outcome.
package faults
