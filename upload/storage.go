package upload

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// maxStorageError is the most read of a storage error body to find its code.
const maxStorageError = 16 << 10

// put streams size bytes of r's body to t and returns the storage's ETag
// (possibly empty: Azure's Put Block has none) and the bytes sent. It
// returns only when storage has answered and r.Body is no longer read.
func (h *Handler) put(ctx context.Context, w http.ResponseWriter, r *http.Request, t *Target, size int64) (string, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The watchdog guards the storage side: it fires when storage neither
	// asks for bytes nor answers for the idle timeout.
	watchdog := time.AfterFunc(h.limits.idle, func() { cancel(errStorageIdle) })
	defer watchdog.Stop()

	out, err := http.NewRequestWithContext(ctx, http.MethodPut, "", nil)
	if err != nil {
		return "", 0, err
	}
	u := *t.URL
	out.URL, out.Host = &u, u.Host
	out.Header = h.outboundHeader(r, t)

	var b *body
	if size > 0 {
		b = newBody(r.Body, w, size, h.limits, watchdog)
		out.Body, out.ContentLength = b, size
		// Storage answers 100 Continue (or an early refusal) before taking
		// bytes; the client's body is read, and its own 100 Continue sent,
		// only once storage asked for it.
		out.Header.Set("Expect", "100-continue")
	} else {
		// Exactly zero bytes: http.NoBody makes the transport send
		// Content-Length: 0 rather than a chunked body, whatever r.Body is
		// (over HTTP/2 a zero-length request is not http.NoBody).
		out.Body, out.ContentLength = http.NoBody, 0
	}

	resp, err := h.storage.RoundTrip(out)
	var n int64
	var readErr error
	var stalled bool
	if b != nil {
		// The transport may still read after RoundTrip returned: end that
		// before anything else, so the handler never returns with a read of
		// r.Body in flight.
		n, stalled, readErr = b.finish()
	}
	if err != nil {
		return "", n, h.putFailed(ctx, readErr, err)
	}
	defer resp.Body.Close()
	if n < size && (stalled || readErr != nil) {
		// The client's body came up short: storage's answer (MinIO's 503
		// RequestTimeout after its own idle timeout) is about the client.
		return "", n, shortBody(ctx, resp, readErr, n, size)
	}

	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", n, rejected(ctx, resp)
	}
	// A success before the whole body went out would claim bytes storage
	// never received.
	if n != size {
		return "", n, ErrStorageRejected.WithCause(fmt.Errorf("upload: storage answered %d after %d of %d bytes", resp.StatusCode, n, size))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStorageError))
	return resp.Header.Get("ETag"), n, nil
}

// outboundHeader is what the PUT carries: the headers FUS named, the
// client's integrity headers, and the client's Content-Type unless FUS
// names one. Nothing else: S3 and GCS refuse unsigned x-amz-*/x-goog-*
// headers, so the presign has to cover what is sent.
func (h *Handler) outboundHeader(r *http.Request, t *Target) http.Header {
	out := make(http.Header, len(t.Header)+2)
	for k, v := range t.Header {
		// Client.Target has refused these already; a Target built by
		// other means gets no credential or framing header through either.
		if !forbiddenHeader(k) {
			out[k] = v
		}
	}
	for k, v := range r.Header {
		if k == "Content-Md5" || strings.HasPrefix(k, "X-Amz-Checksum-") {
			out[k] = v
		}
	}
	if ct, ok := r.Header["Content-Type"]; ok {
		if _, fus := out["Content-Type"]; !fus {
			out["Content-Type"] = ct
		}
	}
	return out
}

// putFailed explains a PUT that got no answer: the client stalled or left,
// or storage stalled or could not be reached. ctx is the PUT's context.
func (h *Handler) putFailed(ctx context.Context, readErr, err error) error {
	var p *edge.Problem
	switch {
	case errors.As(readErr, &p):
		// A limit on the client's body: idle, rate floor, duration cap.
		return readErr
	case readErr != nil:
		return edge.ErrClientClosed.WithCause(fmt.Errorf("upload: reading the client's body: %w", readErr))
	case errors.Is(err, errAddressRefused):
		// The transport's error names the address, never the URL.
		return ErrStorageTargetRefused.WithCause(unwrapURLError(err))
	case errors.Is(context.Cause(ctx), errStorageIdle):
		return ErrStorageTimeout.WithCause(errStorageIdle)
	case ctx.Err() != nil:
		// Not the watchdog, so the request's own context ended: the client
		// left while the PUT waited on storage (over HTTP/2, or before
		// storage asked for the body). Storage is not to blame.
		return edge.ErrClientClosed.WithCause(fmt.Errorf("upload: PUT to storage: %w", context.Cause(ctx)))
	case exhausted(err):
		// Our own lack of file descriptors: neither the client's fault nor
		// storage's.
		return ErrUploadCapacity.WithCause(fmt.Errorf("upload: PUT to storage: %w", unwrapURLError(err)))
	default:
		// The transport's error names the URL; keep only its cause.
		return ErrStorageUnavailable.WithCause(fmt.Errorf("upload: PUT to storage: %w", unwrapURLError(err)))
	}
}

// exhausted reports whether err comes from this process running out of
// file descriptors (EMFILE) or the system out of files (ENFILE).
func exhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// shortBody explains a storage answer that came while the client's body was
// short: a limit the client broke, or the client left (499), whatever
// storage said, which is only logged. When the client was merely slow to
// send (a read waited on it, stalled), the client is blamed only if
// storage's answer is about the body (MinIO's 503 RequestTimeout after its
// own idle timeout, S3's 400 RequestTimeout or IncompleteBody); any other
// answer is storage's own failure, 502 storage_rejected.
func shortBody(ctx context.Context, resp *http.Response, readErr error, n, size int64) error {
	cause := fmt.Errorf("upload: client sent %d of %d bytes when storage answered %d", n, size, resp.StatusCode)
	var p *edge.Problem
	switch {
	case errors.As(readErr, &p):
		edge.AddLogAttrs(ctx, slog.Int("storage_status", resp.StatusCode))
		return readErr
	case readErr != nil:
		edge.AddLogAttrs(ctx, slog.Int("storage_status", resp.StatusCode))
		return edge.ErrClientClosed.WithCause(fmt.Errorf("%w: %w", cause, readErr))
	}
	code := storageCode(resp)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, code == "RequestTimeout", code == "IncompleteBody":
		edge.AddLogAttrs(ctx, slog.Int("storage_status", resp.StatusCode), slog.String("storage_code", code))
		return ErrUploadTimeout.WithCause(cause)
	}
	return rejectedCode(ctx, resp.StatusCode, code)
}

// unwrapURLError drops a *url.Error layer (from a RoundTripper built on
// http.Client), whose text quotes the URL: a presigned storage URL, or a
// FUS URL with its signature.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// rejected builds the storage_rejected problem for a storage error answer.
func rejected(ctx context.Context, resp *http.Response) error {
	return rejectedCode(ctx, resp.StatusCode, storageCode(resp))
}

// storageCode is the storage's own error code of resp (S3, GCS and Azure
// all answer an XML <Error><Code>; Azure also sends x-ms-error-code), or "".
// It reads resp.Body.
func storageCode(resp *http.Response) string {
	code := resp.Header.Get("X-Ms-Error-Code")
	if !validStorageCode(code) {
		code = storageErrorCode(io.LimitReader(resp.Body, maxStorageError))
	}
	return code
}

// rejectedCode builds the storage_rejected problem naming the storage's
// status and error code, but never its message or URL.
func rejectedCode(ctx context.Context, status int, code string) error {
	edge.AddLogAttrs(ctx, slog.Int("storage_status", status), slog.String("storage_code", code))
	detail := "Cloud storage refused the upload (status " + strconv.Itoa(status)
	if code != "" {
		detail += ", code " + code
	}
	return edge.NewProblem(ErrStorageRejected.Status(), ErrStorageRejected.Code(), detail+").")
}

// storageErrorCode returns the text of the first <Code> element of an XML
// error body, or "" when there is none that looks like a code.
func storageErrorCode(r io.Reader) string {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Code" {
			var code string
			if dec.DecodeElement(&code, &se) != nil || !validStorageCode(code) {
				return ""
			}
			return code
		}
	}
}

// validStorageCode accepts what storage error codes look like
// (AccessDenied, SignatureDoesNotMatch, AuthenticationFailed) and nothing
// that could smuggle text into a problem.
func validStorageCode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
