package main

import (
	"syscall"
	"time"
)

// sleepUntil blocks the calling thread until t. The open-loop client needs
// its sends on time: time.Sleep wakes up to 1 ms late while the process is
// otherwise idle (the runtime waits for timers in epoll with millisecond
// resolution), nanosleep within tens of µs.
func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil) // EINTR (the runtime's signals): sleep the rest
	}
}
