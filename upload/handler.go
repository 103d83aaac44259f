package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/attribute"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// Span attributes of an upload. Their names are stable: dashboards and
// alerts query them.
const (
	AttrCompanyID      = "upload.company_id"
	AttrUploadID       = "upload.upload_id"
	AttrIsStandard     = "upload.is_standard"
	AttrPartNumber     = "upload.part_number"
	AttrFetchURLMillis = "upload.fetch_cloud_storage_url_duration_ms"
	AttrStreamMillis   = "upload.stream_to_cloud_storage_duration_ms"
	AttrBytesStreamed  = "upload.bytes_streamed"
)

// Handler streams an upload's body to the presigned storage URL that the
// zone's file upload service names. Mount it on PatternUpload and
// PatternPart behind signature verification and zone resolution (see New);
// it reads the zone from zone.ZoneFromContext.
//
// Everything is checked before the first read of the body (ids, part
// number, Content-Length, size, zone, the FUS answer), so a client that
// sent Expect: 100-continue uploads nothing when it would be refused.
// The response is written only once storage has answered the PUT:
//
//	200 ETag: "9b2cf535f27731c974343645a3985328"
//	{"etag":"\"9b2cf535f27731c974343645a3985328\"","size":1048576,"part_number":2}
type Handler struct {
	fus         *Client
	storage     http.RoundTripper
	maxSize     int64
	limits      bodyLimits
	uploads     *inFlight
	errTooLarge *edge.Problem
	company     func(string) bool
	obs         Observer // nil: none
}

// NewHandler returns a Handler that asks fus for storage locations. Its
// options are the HandlerOptions, and WithTracerProvider and
// WithCompanyIDRule.
func NewHandler(fus *Client, opts ...HandlerOption) (*Handler, error) {
	cfg, err := newConfig("NewHandler", opts, HandlerOption.handlerOption)
	if err != nil {
		return nil, err
	}
	return newHandler("NewHandler", fus, cfg)
}

func newHandler(ctor string, fus *Client, cfg *config) (*Handler, error) {
	if fus == nil {
		return nil, fmt.Errorf("upload: %s: a file upload service client is required", ctor)
	}
	var storage http.RoundTripper = cfg.storageRT
	if storage == nil {
		storage = NewStorageTransport(fus)
	}
	storage, err := tracing.Transport(storage, tracing.WithTracerProvider(cfg.provider))
	if err != nil {
		return nil, fmt.Errorf("upload: %s: %w", ctor, err)
	}
	return &Handler{
		fus:     fus,
		company: cfg.validCompany,
		storage: storage,
		maxSize: cfg.maxSize,
		limits: bodyLimits{idle: cfg.idle, minRate: float64(max(0, cfg.minRate)), grace: cfg.grace,
			maxDuration: cfg.maxDuration, now: cfg.now},
		uploads:     newInFlight(cfg.maxUploads, cfg.maxCompanyUploads),
		obs:         cfg.observer,
		errTooLarge: ErrTooLarge.WithDetail(fmt.Sprintf("The upload is larger than the maximum of %d bytes.", cfg.maxSize)),
	}, nil
}

// result is the JSON answer to a successful upload.
type result struct {
	ETag       string `json:"etag"`
	Size       int64  `json:"size"`
	PartNumber int    `json:"part_number,omitempty"`
}

// serve is ServeHTTP without the observer.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := ParseParams(r, h.maxSize, h.company)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = h.errTooLarge
		}
		edge.WriteProblem(w, r, err)
		return
	}
	tracing.SetAttributes(ctx,
		attribute.String(AttrCompanyID, p.CompanyID),
		attribute.String(AttrUploadID, p.UploadID),
		attribute.Bool(AttrIsStandard, p.Standard()),
	)
	logAttrs := []slog.Attr{slog.String("upload_id", p.UploadID), slog.Int64("upload_size", p.Size)}
	if !p.Standard() {
		tracing.SetAttributes(ctx, attribute.Int(AttrPartNumber, p.PartNumber))
		logAttrs = append(logAttrs, slog.Int("part_number", p.PartNumber))
	}
	edge.AddLogAttrs(ctx, logAttrs...)

	z, ok := zone.ZoneFromContext(ctx)
	if !ok {
		edge.WriteProblem(w, r, zone.ErrZoneUnroutable.WithCause(errors.New("upload: no zone in the request context; is zone.Resolve in the chain?")))
		return
	}
	// Claim the upload's place before FUS is asked: an upload already in
	// flight, or a company at its limit, costs nothing more.
	release, err := h.uploads.acquire(p)
	if err != nil {
		w.Header().Set("Retry-After", retryAfterBusy)
		edge.WriteProblem(w, r, err)
		return
	}
	defer release()

	stop := tracing.StartTimer(ctx, AttrFetchURLMillis)
	t, err := h.fus.Target(ctx, z.Name, p)
	stop()
	if err != nil {
		edge.WriteProblem(w, r, clientGone(ctx, err))
		return
	}

	stop = tracing.StartTimer(ctx, AttrStreamMillis)
	etag, n, err := h.put(ctx, w, r, t, p.Size)
	stop()
	tracing.SetAttributes(ctx, attribute.Int64(AttrBytesStreamed, n))
	streamedKey.Value(ctx).add(n)
	if err != nil {
		edge.WriteProblem(w, r, clientGone(ctx, err))
		return
	}

	hdr := w.Header()
	if etag != "" {
		hdr["Etag"] = []string{etag} // as storage sent it, quotes and all
	}
	edge.WriteJSON(w, http.StatusOK, result{ETag: etag, Size: n, PartNumber: p.PartNumber})
}

// clientGone turns an error after the client went away into the 499 that
// is logged but never seen.
func clientGone(ctx context.Context, err error) error {
	var p *edge.Problem
	if ctx.Err() != nil && !errors.As(err, &p) {
		return edge.ErrClientClosed.WithCause(err)
	}
	return err
}
