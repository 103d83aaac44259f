package geofence

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/cellgate/cellgate/zone"
)

// Transport returns a RoundTripper that carries requests to a gateway or
// backend in region at through base, and refuses, without calling base, a
// request whose zone (zone.ZoneFromContext) belongs to a company whose data
// must stay in another region: the proxy in front then answers the
// client with 503 residency_mismatch, as Middleware would. Use it for
// every endpoint of zone.NewRouter, canaries included, and for a
// strangler's replacement backend, so that no configured detour takes a
// company out of its region. A request without a zone, or of a company
// without residency, passes.
func (r *Residency) Transport(at Region, base http.RoundTripper) (http.RoundTripper, error) {
	if !validRegion(at) {
		return nil, fmt.Errorf("geofence: Transport: invalid region %q", at)
	}
	if base == nil {
		return nil, errors.New("geofence: Transport: nil base RoundTripper")
	}
	return &regionTransport{r: r, at: at, base: base}, nil
}

type regionTransport struct {
	r    *Residency
	at   Region
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *regionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	z, ok := zone.ZoneFromContext(ctx)
	if !ok || z.Residency == "" || z.Residency == string(t.at) {
		return t.base.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close() // a RoundTripper closes the body, even on refusal
	}
	t.r.observe(ctx, z, ErrResidencyMismatch)
	err := ErrResidencyMismatch.WithCause(fmt.Errorf("geofence: hop to region %s; the company's data in zone %s must stay in %s", t.at, z.Name, z.Residency))
	return problemResponse(req, err), nil
}

// Unwrap returns the base transport (see edge.WithTransport).
func (t *regionTransport) Unwrap() http.RoundTripper { return t.base }

// problemResponse is the response edge.WriteProblem would write for err,
// as a RoundTripper's answer.
func problemResponse(req *http.Request, err error) *http.Response {
	rec := &recorder{header: make(http.Header)}
	writeProblem(rec, req, err)
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}
}

// recorder is the smallest http.ResponseWriter that keeps what is written.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
