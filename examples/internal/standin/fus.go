package standin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// ErrPartInvalid: the FUS was asked for a part number out of range.
var ErrPartInvalid = edge.NewProblem(http.StatusBadRequest, "part_number_invalid",
	"The part number must be an integer from 1 to 10000.")

// FUSConfig configures a stand-in file upload service.
type FUSConfig struct {
	// Zone is the FUS's zone; objects go under it in the store.
	Zone string
	// Verifier checks the calls (the FUS key); required.
	Verifier *hmacsig.Verifier
	// Objects is the object store's base URL, such as
	// "http://127.0.0.1:8086"; required unless S3 is set.
	Objects string
	// Signer presigns object URLs (the objects key); required unless S3
	// is set.
	Signer *hmacsig.Signer
	// S3, when set, is the bucket that takes the uploads instead of the
	// object store: URLs are SigV4-presigned for object S3Object(zone, p),
	// and parts go to a multipart upload the FUS starts on the first part.
	S3 *S3
	// Lifetime of a presigned URL; 15 minutes when zero.
	Lifetime time.Duration
	// Logger receives the access log; slog.Default() when nil.
	Logger *slog.Logger
}

type fusAnswer struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// NewFUS returns a stand-in file upload service for one zone, answering the
// FUS protocol of package upload:
//
//	GET /companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url[?part_number=N]
//	    signed with the FUS key
//	200 {"url": "<object store URL presigned for PUT>"}
//
// The object is keyed by zone, company, project and upload id (ObjectPath,
// S3Object), so companies of one zone never share an upload namespace. A
// real FUS knows which uploads exist; this one presigns any valid ids.
//
// With S3 set, a part's URL is an UploadPart of the multipart upload that
// the FUS created (CreateMultipartUpload) the first time it was asked for a
// part of that id, and remembers for a day. Completing the multipart upload
// is left to the uploader: it finds the upload id by listing the bucket's
// multipart uploads for the object and sends the parts' ETags, which the
// storage host answered with.
func NewFUS(cfg FUSConfig) (http.Handler, error) {
	if cfg.Verifier == nil || cfg.Zone == "" {
		return nil, errors.New("standin: fus: a zone and a verifier are required")
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 15 * time.Minute
	}
	var presign presignFunc
	if cfg.S3 != nil {
		if err := cfg.S3.Validate(); err != nil {
			return nil, err
		}
		presign = presignS3(cfg.S3, cfg.Zone, cfg.Lifetime)
	} else {
		if cfg.Signer == nil {
			return nil, errors.New("standin: fus: an object store signer is required")
		}
		base, err := url.Parse(cfg.Objects)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return nil, errors.New("standin: fus: the object store URL must be an absolute http(s) URL")
		}
		presign = presignObjects(base, cfg.Signer, cfg.Zone, cfg.Lifetime)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url", func(w http.ResponseWriter, r *http.Request) {
		p := upload.Params{
			CompanyID: r.PathValue("companyId"),
			ProjectID: r.PathValue("projectId"),
			UploadID:  r.PathValue("uploadId"),
		}
		if !zone.ValidCompanyID(p.CompanyID) || !zone.ValidCompanyID(p.ProjectID) || !upload.ValidUploadID(p.UploadID) {
			edge.WriteProblem(w, r, upload.ErrUploadUnknown)
			return
		}
		if s := r.URL.Query().Get("part_number"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > upload.MaxPartNumber {
				edge.WriteProblem(w, r, ErrPartInvalid)
				return
			}
			p.PartNumber = n
		}
		signed, err := presign(r.Context(), p)
		if err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		edge.WriteJSON(w, http.StatusOK, fusAnswer{URL: signed})
	})
	log := edge.WithLogger(cfg.Logger)
	if cfg.Logger == nil {
		log = edge.WithLogger(slog.Default())
	}
	trusted := edge.WithTrust(edge.TrustBinding)
	var l links
	chain := edge.Chain(
		l.add(tracing.Middleware("fus-"+cfg.Zone)),
		l.add(edge.RequestID(trusted)),
		l.add(edge.AccessLog(log)),
		l.add(edge.Recover(log)),
		l.add(hmacsig.Require(cfg.Verifier)),
		tracing.Route,
	)
	if l.err != nil {
		return nil, l.err
	}
	return chain(mux), nil
}

// presignFunc presigns the PUT of the upload p names (part 0: the whole
// upload).
type presignFunc func(ctx context.Context, p upload.Params) (string, error)

// presignObjects presigns object store URLs with the objects key.
func presignObjects(base *url.URL, signer *hmacsig.Signer, zoneName string, lifetime time.Duration) presignFunc {
	return func(_ context.Context, p upload.Params) (string, error) {
		u := *base
		u.Path = strings.TrimSuffix(base.Path, "/") + ObjectPath(zoneName, p)
		signed, err := signer.Sign(http.MethodPut, &u, lifetime)
		if err != nil {
			return "", err
		}
		return signed.String(), nil
	}
}
