package edge

import "time"

// headerClock is the time a [headerTimeout] runs on.
type headerClock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) interface{ Stop() bool }
}

// realClock is the headerClock of the process.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) interface{ Stop() bool } {
	return time.AfterFunc(d, f)
}

func (h headerTimeout) timeClock() headerClock {
	if h.clock == nil {
		return realClock{}
	}
	return h.clock
}
