//go:build !linux

package main

import "time"

// sleepUntil blocks until t. Off Linux it is time.Sleep, which may wake up
// to 1 ms late while the process is otherwise idle: the latencies at
// moderate load then carry that lag (the harness is measured on Linux).
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// preciseSleeps does nothing off Linux.
func preciseSleeps() (undo func()) { return func() {} }
