package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// logFields collects the attributes that later stages of a request add to
// its access log line.
type logFields struct {
	mu    sync.Mutex
	attrs []slog.Attr
	buf   [4]slog.Attr // room for the usual few (company, zone, session, user) without growing
}

var logFieldsKey = NewKey[*logFields]("edge.log_fields")

// AddLogAttrs adds attributes to the access log line of the request whose
// context is ctx, so a later stage (company detection, zone resolution, a
// problem) can enrich the one line per request. An attribute whose key is
// already on the line replaces the earlier value instead of appearing twice
// (a gateway and passport.Require in one process both name the session and
// the user). It reports whether an [AccessLog] is there to take them. Never
// add a secret or a query string.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) bool {
	f := logFieldsKey.Value(ctx)
	if f == nil {
		return false
	}
	f.mu.Lock()
next:
	for _, a := range attrs {
		for i := range f.attrs {
			if f.attrs[i].Key == a.Key {
				f.attrs[i] = a
				continue next
			}
		}
		f.attrs = append(f.attrs, a)
	}
	f.mu.Unlock()
	return true
}

// CollectAttrs returns ctx carrying a collector for [AddLogAttrs] and a
// function that returns what has been added so far. When ctx already has a
// collector it is reused, so the access log and tracing, wherever they stand
// in a chain, see the same attributes (company, zone, problem).
func CollectAttrs(ctx context.Context) (context.Context, func() []slog.Attr) {
	f := logFieldsKey.Value(ctx)
	if f == nil {
		f = newLogFields()
		ctx = logFieldsKey.With(ctx, f)
	}
	return ctx, f.snapshot
}

func newLogFields() *logFields {
	f := &logFields{}
	f.attrs = f.buf[:0]
	return f
}

func (f *logFields) snapshot() []slog.Attr { return f.appendTo(nil) }

// appendTo appends what has been added so far to dst.
func (f *logFields) appendTo(dst []slog.Attr) []slog.Attr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(dst, f.attrs...)
}

// AccessLog writes one log line per request when its handler returns:
// the service that wrote it ([WithService]; none by default), method, path
// (never the query, which may carry a signature or a presigned credential),
// status, bytes in and out, duration, request ID and the
// attributes added through [AddLogAttrs]. Server errors and aborted
// responses (aborted=true) log at Error level, client errors at Warn, the
// rest at Info. The records carry no source location: it would always be
// this middleware, and finding it costs more than formatting the line.
//
// An invalid option is an error.
func AccessLog(opts ...AccessLogOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("AccessLog", opts, AccessLogOption.accessLogOption)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			// A RequestID just in front allocated what follows with the
			// request's scope; else each is allocated here.
			st := requestStateOf(r.Context())
			var rw *ResponseWriter
			var body *countingBody
			if st != nil {
				body = &st.body
				if wrapped, ok := w.(*ResponseWriter); ok {
					rw = wrapped
				} else {
					rw = &st.rw
					rw.ResponseWriter = w
				}
			} else {
				rw, body = WrapResponseWriter(w), &countingBody{}
			}
			body.ReadCloser = r.Body
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = body
			}
			fields := logFieldsKey.Value(r.Context())
			if fields == nil {
				if st != nil {
					fields = &st.fields
					fields.attrs = fields.buf[:0]
				} else {
					fields = newLogFields()
				}
				r = logFieldsKey.Attach(r, fields)
			}
			ctx := r.Context()
			defer func() {
				// A panic passing through (http.ErrAbortHandler, from Recover
				// after a late panic or from the proxy when a stream breaks)
				// means the response was cut short: log it as aborted, with
				// the status that was started, then let it go on to net/http.
				v := recover()
				if v != nil {
					defer panic(v)
				}
				status := rw.Status()
				if status == 0 && v == nil {
					// The handler returned without writing: net/http sends 200.
					status = http.StatusOK
				}
				level := slog.LevelInfo
				switch {
				case status >= 500 || v != nil:
					level = slog.LevelError
				case status >= 400:
					level = slog.LevelWarn
				}
				logger := c.log()
				if !logger.Enabled(ctx, level) {
					return
				}
				// The record is built here rather than by logger.LogAttrs,
				// which would walk the stack for a source location that is
				// always this line; attrs stays on the stack for the usual
				// few added ones.
				now := time.Now()
				var buf [16]slog.Attr
				attrs := buf[:0]
				if c.service != "" {
					attrs = append(attrs, slog.String("service", c.service))
				}
				attrs = append(attrs,
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Int64("bytes_in", body.n.Load()),
					slog.Int64("bytes_out", rw.BytesWritten()),
					slog.Duration("duration", now.Sub(start)),
					slog.String("request_id", RequestIDFromContext(ctx)),
				)
				if v != nil {
					attrs = append(attrs, slog.Bool("aborted", true))
				}
				attrs = fields.appendTo(attrs)
				rec := slog.NewRecord(now, level, "request", 0)
				rec.AddAttrs(attrs...)
				_ = logger.Handler().Handle(ctx, rec)
			}()
			next.ServeHTTP(rw, r)
		})
	}, nil
}

// WithService names, in every line [AccessLog] writes, the service that
// wrote it (service="gateway-us01"), so the lines one request leaves at
// each hop can be told apart. The default (or "") writes no service
// attribute; the name must not hold a control character.
func WithService(name string) AccessLogOption {
	return accessLogOpt{"WithService", func(c *config) error {
		if !validHeaderValue(name) {
			return errors.New("service name holds a control character")
		}
		c.service = name
		return nil
	}}
}

// countingBody counts the request body bytes the handler reads. The count
// is atomic because a transport may still be reading the body in its own
// goroutine when the handler returns (a proxied request whose upstream
// answered early).
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
