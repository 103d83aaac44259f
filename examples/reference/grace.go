package reference

import (
	"errors"
	"log/slog"

	"github.com/cellgate/cellgate/edge"
)

// Exit statuses of the service mains (see [ExitStatus]).
const (
	ExitFailed       = 1 // the service could not start, or a server failed
	ExitGraceExpired = 3 // stopped on a signal, but the grace ran out and connections were cut
)

// ExitStatus reports how a main ends after its serve function returned err
// (never nil): a grace that ran out (edge.ErrGraceExpired) is a WARN naming
// what was cut and [ExitGraceExpired], anything else an ERROR and
// [ExitFailed]. service
// names the main in the log line.
func ExitStatus(service string, err error) int {
	if errors.Is(err, edge.ErrGraceExpired) {
		slog.Warn(service+" stopped, but the shutdown grace ran out: in-flight requests were cut (see the lines above)", "err", err)
		return ExitGraceExpired
	}
	slog.Error(service, "err", err)
	return ExitFailed
}
