package geofence

import (
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// refuseAll is the middleware of a nil Fence or Residency: 500
// internal_error on every request, as passport's nil Gateway answers.
func refuseAll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteProblem(w, r, edge.ErrInternal)
	})
}
