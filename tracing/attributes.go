package tracing

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/cellgate/cellgate/edge"
)

// Span attributes that Middleware sets. Each is the access log field of the
// same meaning under the cellgate namespace, so a log line and a span are
// matched by eye.
const (
	// RequestIDKey is the request ID (edge.RequestIDFromContext, or the
	// X-Request-Id response header set by edge.RequestID further in).
	RequestIDKey = attribute.Key("cellgate.request_id")
	// CompanyKey is the company of the request, from the "company" log field.
	CompanyKey = attribute.Key("cellgate.company")
	// ZoneKey is the zone (cell) of the request, from the "zone" log field.
	ZoneKey = attribute.Key("cellgate.zone")
	// ProblemKey is the code of the problem answered, from the "problem"
	// log field that edge.WriteProblem adds.
	ProblemKey = attribute.Key("cellgate.problem")
	// ClientCountryKey is the client's country (ISO 3166-1 alpha-2), from
	// the "client_country" log field that zone/geofence adds. Never the
	// client's address.
	ClientCountryKey = attribute.Key("cellgate.client_country")
	// OperationKey is the name given to Middleware.
	OperationKey = attribute.Key("cellgate.operation")
)

// fromLog maps the log fields tracing recognises to span attributes. Anything
// else collected for the log (an error text, for one) may hold anything and
// stays out of the span.
var fromLog = map[string]attribute.Key{
	"company":        CompanyKey,
	"zone":           ZoneKey,
	"problem":        ProblemKey,
	"request_id":     RequestIDKey,
	"region":         RegionKey, // the zone's residency region, from zone/geofence
	"client_country": ClientCountryKey,
}

// knownAttributes returns the span attributes for what is known of the
// request when its handler has returned.
func knownAttributes(ctx context.Context, h http.Header, logged []slog.Attr) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, len(logged)+1)
	id := edge.RequestIDFromContext(ctx)
	if id == "" {
		id = h.Get(edge.RequestIDHeader)
	}
	if id != "" {
		kv = append(kv, RequestIDKey.String(id))
	}
	for _, a := range logged {
		if key, ok := fromLog[a.Key]; ok {
			kv = append(kv, key.String(a.Value.Resolve().String()))
		}
	}
	return kv
}

// SetAttributes sets attributes on the span of ctx: from anywhere in a
// handler, without holding the span. It does nothing when the request is not
// traced. Never pass a secret, a signed or presigned URL or a query string.
func SetAttributes(ctx context.Context, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}

var clockKey = edge.NewKey[func() time.Time]("tracing.clock")

// StartTimer starts timing a step of the request whose context is ctx. stop
// sets the elapsed whole milliseconds as the int attribute key on the span of
// ctx, and returns the elapsed time whether or not the request is traced:
//
//	stop := tracing.StartTimer(ctx, "upload.fetch_cloud_storage_url_duration_ms")
//	target, err := fus.Fetch(ctx, id)
//	stop()
//
// The clock is the one given to Middleware with WithClock, or time.Now.
func StartTimer(ctx context.Context, key string) (stop func() time.Duration) {
	now := clockKey.Value(ctx)
	if now == nil {
		now = time.Now
	}
	span := trace.SpanFromContext(ctx)
	start := now()
	return func() time.Duration {
		d := now().Sub(start)
		span.SetAttributes(attribute.Int64(key, d.Milliseconds()))
		return d
	}
}
