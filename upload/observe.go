package upload

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Observer is told of every upload a Handler serves, for metrics;
// tracing.Instruments implements it with OpenTelemetry instruments. Its
// methods are told the zone, never the company or the upload. They are
// called on the request path and must be fast and not block.
type Observer interface {
	// UploadsObserved reports whether the observer records anything now;
	// when it does not (a no-op meter provider), the Handler measures
	// nothing and allocates nothing for it.
	UploadsObserved(ctx context.Context) bool
	// UploadStarted is told that an upload into zone began.
	UploadStarted(ctx context.Context, zone string)
	// UploadFinished is told that it ended after d with outcome ("ok",
	// or the problem code it was answered with) having streamed n bytes
	// to storage.
	UploadFinished(ctx context.Context, zone string, n int64, d time.Duration, outcome string)
}

// WithObserver makes a Handler ([NewHandler], [New]) tell o of every
// upload it serves once its zone is known: in flight, bytes streamed,
// duration and outcome. The default (or nil) is no observer.
func WithObserver(o Observer) HandlerOption {
	return handlerOpt{"WithObserver", func(c *config) error { c.observer = o; return nil }}
}

// streamed counts the bytes one upload streamed; nil counts nothing.
type streamed struct{ n atomic.Int64 }

func (s *streamed) add(n int64) {
	if s != nil {
		s.n.Add(n)
	}
}

var streamedKey = edge.NewKey[*streamed]("upload.streamed")

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	z, ok := zone.ZoneFromContext(r.Context())
	if h.obs == nil || !ok || !h.obs.UploadsObserved(r.Context()) {
		h.serve(w, r)
		return
	}
	ctx, collected := edge.CollectAttrs(r.Context())
	s := &streamed{}
	ctx = streamedKey.With(ctx, s)
	start := time.Now()
	h.obs.UploadStarted(ctx, z.Name)
	defer func() {
		outcome := "ok"
		for _, a := range collected() {
			if a.Key == "problem" {
				outcome = a.Value.String()
			}
		}
		h.obs.UploadFinished(ctx, z.Name, s.n.Load(), time.Since(start), outcome)
	}()
	h.serve(w, r.WithContext(ctx))
}
