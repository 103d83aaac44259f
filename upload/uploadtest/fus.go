package uploadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
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

// Presign answers for one upload: p names the company, the project and the
// upload, and p.PartNumber is 1–10000 for a part, 0 for a standard upload
// (p.Size is always 0: FUS is not told the size).
type Presign func(ctx context.Context, p upload.Params) (Answer, error)

// NewFUS returns a FUS serving
//
//	GET /companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url[?part_number=N]
//
// with presign, behind signature verification with verifier (the FUS key),
// so a caller that does not sign is refused as the real service would. Ids
// that upload.ParseParams would refuse are answered 400 without calling
// presign. A nil verifier is an error.
func NewFUS(verifier *hmacsig.Verifier, presign Presign) (http.Handler, error) {
	require, err := hmacsig.Require(verifier)
	if err != nil {
		return nil, fmt.Errorf("uploadtest: NewFUS: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url", func(w http.ResponseWriter, r *http.Request) {
		p := upload.Params{
			CompanyID: r.PathValue("companyId"),
			ProjectID: r.PathValue("projectId"),
			UploadID:  r.PathValue("uploadId"),
		}
		if s := r.URL.Query().Get("part_number"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > upload.MaxPartNumber {
				edge.WriteProblem(w, r, edge.NewProblem(http.StatusBadRequest, "part_number_invalid", "bad part_number"))
				return
			}
			p.PartNumber = n
		}
		// The rules of upload.ParseParams (project ids are decimal ids like
		// company ids).
		if !zone.ValidCompanyID(p.CompanyID) || !zone.ValidCompanyID(p.ProjectID) || !upload.ValidUploadID(p.UploadID) {
			edge.WriteProblem(w, r, edge.NewProblem(http.StatusBadRequest, "id_invalid", "bad company, project or upload id"))
			return
		}
		a, err := presign(r.Context(), p)
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
		edge.WriteJSON(w, http.StatusOK, a)
	})
	return require(mux), nil
}
