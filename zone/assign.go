package zone

import (
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// Assign puts z in the context of every request (From) and on its access
// log line: a per-zone gateway knows its own zone and needs no directory.
func Assign(z Zone) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			edge.AddLogAttrs(ctx, slog.String("zone", z.Name))
			next.ServeHTTP(w, r.WithContext(With(ctx, z)))
		})
	}
}
