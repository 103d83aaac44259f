package peers

import (
	"syscall"
	"time"
)

// Pause stops the MinIO server with SIGSTOP, for fault-injection tests: it
// keeps its connections but answers nothing until [MinIO.Resume].
func (m *MinIO) Pause() error { return m.proc.signal(syscall.SIGSTOP) }

// Resume continues a paused MinIO server with SIGCONT.
func (m *MinIO) Resume() error { return m.proc.signal(syscall.SIGCONT) }

// Kill ends the MinIO server with SIGKILL, as a crash would, and waits up
// to timeout for it to exit; it reports whether it did.
func (m *MinIO) Kill(timeout time.Duration) bool {
	_ = m.proc.signal(syscall.SIGKILL)
	select {
	case <-m.proc.exited:
		return true
	case <-time.After(timeout):
		return false
	}
}

// signal sends sig to the peer's process group.
func (p *process) signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}
