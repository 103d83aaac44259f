package main

import (
	"runtime"
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

const prSetTimerslack = 29 // PR_SET_TIMERSLACK, linux/prctl.h

// preciseSleeps keeps the calling goroutine on its thread and lets that
// thread's sleeps end on time, until the returned func undoes both. Linux
// lets a thread's timers fire up to 50 µs late by default (timer slack, to
// batch wake-ups): as much again as the wake-up itself on this machine.
func preciseSleeps() (undo func()) {
	runtime.LockOSThread()
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0) // 1 ns
	return func() {
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 0, 0) // 0: the thread's default again
		runtime.UnlockOSThread()
	}
}
