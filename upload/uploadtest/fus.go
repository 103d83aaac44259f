package uploadtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
)

// Answer is a FUS answer: the presigned URL and the headers to send.
type Answer struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// Errors a presign function returns to make the FUS answer 404 or 409;
// any other error is a 500.
var (
	ErrUnknown  = errors.New("uploadtest: unknown upload")
	ErrConflict = errors.New("uploadtest: upload in a conflicting state")
)

// Presign answers for one upload: part is 1–10000 for a part, 0 for a
// standard upload.
type Presign func(ctx context.Context, uploadID string, part int) (Answer, error)

// NewFUS returns a FUS serving GET /uploads/{uploadId}/url[?part_number=N]
// with presign, behind signature verification with verifier (the FUS key),
// so a caller that does not sign is refused as the real service would.
func NewFUS(verifier *hmacsig.Verifier, presign Presign) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /uploads/{uploadId}/url", func(w http.ResponseWriter, r *http.Request) {
		part := 0
		if s := r.URL.Query().Get("part_number"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				edge.WriteProblem(w, r, edge.NewProblem(http.StatusBadRequest, "part_number_invalid", "bad part_number"))
				return
			}
			part = n
		}
		a, err := presign(r.Context(), r.PathValue("uploadId"), part)
		switch {
		case errors.Is(err, ErrUnknown):
			edge.WriteProblem(w, r, edge.NewProblem(http.StatusNotFound, "upload_unknown", "unknown upload"))
			return
		case errors.Is(err, ErrConflict):
			edge.WriteProblem(w, r, edge.NewProblem(http.StatusConflict, "upload_conflict", "conflict"))
			return
		case err != nil:
			edge.WriteProblem(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	return hmacsig.Require(verifier)(mux)
}
