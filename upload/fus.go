package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/internal/strictjson"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
)

// Client asks a zone's file upload service (FUS) where an upload's bytes go:
//
//	GET {fus}/companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url[?part_number=N]
//	→ 200 {"url": "https://bucket.s3…?X-Amz-Signature=…", "headers": {"x-ms-blob-type": "BlockBlob"}}
//
// Every call is signed with the FUS key (hmacsig.Transport), traced, and
// carries the request ID. The services are fixed at construction, one per
// zone; directory data never names a host.
type Client struct {
	services     map[string]string // zone name → base URL without trailing '/'
	rt           http.RoundTripper
	timeout      time.Duration
	storageHosts storageHosts
	dial         *net.Dialer // the storage transport's, with the address check
	headers      headerPolicy
	company      func(string) bool // the company id rule
	targetChecks []TargetCheck     // WithTargetCheck
}

// Target is where one upload's bytes go: a presigned storage URL and the
// headers the presign requires.
type Target struct {
	// URL is the presigned URL. It is a credential: never log it, trace it
	// or show it to a client. Target's String and LogValue name only its host.
	URL *url.URL
	// Header holds the headers to send with the PUT (x-ms-blob-type,
	// a signed Content-Type, ...), in canonical form.
	Header http.Header
}

// String names the target's scheme and host only.
func (t *Target) String() string { return t.URL.Scheme + "://" + t.URL.Host + "/…" }

// LogValue keeps the presigned URL out of slog records.
func (t *Target) LogValue() slog.Value { return slog.StringValue(t.String()) }

// NewClient returns a client of the file upload services in services
// (zone name → base URL such as "https://fus.us01.internal"), which signs
// its calls with signer. WithStorageHosts is required: with no storage
// host allowed, NewClient returns an error rather than a client that would
// refuse every upload (or accept any target). Its options are the
// ClientOptions, and WithTracerProvider and WithCompanyIDRule.
func NewClient(services map[string]string, signer *hmacsig.Signer, opts ...ClientOption) (*Client, error) {
	if signer == nil {
		return nil, errors.New("upload: NewClient: a signer for the file upload service key is required")
	}
	if len(services) == 0 {
		return nil, errors.New("upload: NewClient: no file upload service configured")
	}
	cfg, err := newConfig("NewClient", opts, ClientOption.clientOption)
	if err != nil {
		return nil, err
	}
	hosts, err := parseStorageHosts(cfg.storageHosts)
	if err != nil {
		return nil, fmt.Errorf("upload: NewClient: %w", err)
	}
	headers, err := parseStorageHeaders(cfg.storageHeaders)
	if err != nil {
		return nil, fmt.Errorf("upload: NewClient: %w", err)
	}
	c := &Client{
		services:     make(map[string]string, len(services)),
		timeout:      cfg.fusTimeout,
		company:      cfg.validCompany,
		storageHosts: hosts,
		dial:         newAddressPolicy(hosts, cfg.storageAddrs).dialer(),
		headers:      headers,
		targetChecks: cfg.targetChecks,
	}
	// Tracing sits outside signing, so the client span records the
	// unsigned URL; the trace headers it adds are copied onto the signed
	// request by hmacsig.Transport.
	rt, err := tracing.Transport(&hmacsig.Transport{Signer: signer, Base: edge.Outbound(orNewTransport(cfg.fusRT))},
		tracing.WithTracerProvider(cfg.provider))
	if err != nil {
		return nil, fmt.Errorf("upload: NewClient: %w", err)
	}
	c.rt = rt
	for name, base := range services {
		if !zone.ValidZoneName(name) {
			return nil, fmt.Errorf("upload: NewClient: invalid zone name %q", name)
		}
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("upload: NewClient: FUS of zone %s: %w", name, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("upload: NewClient: FUS of zone %s must be an http(s) URL without credentials, query or fragment", name)
		}
		c.services[name] = strings.TrimSuffix(u.String(), "/")
	}
	return c, nil
}

// fusAnswer is the JSON a file upload service answers.
type fusAnswer struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// Target asks the file upload service of zoneName where the bytes of the
// upload p names go: p.PartNumber 1–10000 for a part of a segmented upload,
// or 0 for a standard one (p.Size is not sent). The call names the company,
// the project and the upload, so one company's upload id never reaches
// another company's object. Its errors are problems: the problem of
// ParseParams for an id that is not valid (FUS is not called),
// zone.ErrZoneUnroutable when the zone has no service here, ErrUploadUnknown
// (FUS 404), ErrUploadConflict (409), and ErrFUSUnavailable for anything
// else, including an unusable answer; what a check of WithTargetCheck
// refuses the target with; ErrUploadCapacity when this process
// is out of file descriptors. When ctx ends first, the error wraps
// ctx's error and no problem.
func (c *Client) Target(ctx context.Context, zoneName string, p Params) (*Target, error) {
	if err := p.validIDs(c.company); err != nil {
		return nil, err
	}
	base, ok := c.services[zoneName]
	if !ok {
		return nil, zone.ErrZoneUnroutable.WithCause(fmt.Errorf("upload: no file upload service for zone %q", zoneName))
	}
	uploadID := p.UploadID
	target := base + "/companies/" + url.PathEscape(p.CompanyID) + "/projects/" + url.PathEscape(p.ProjectID) +
		"/uploads/" + url.PathEscape(uploadID) + "/url"
	if p.PartNumber > 0 {
		target += "?part_number=" + strconv.Itoa(p.PartNumber)
	}
	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, target, nil)
	if err != nil {
		return nil, ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS request for %s: %w", uploadID, err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("upload: FUS call for %s: %w", uploadID, context.Cause(ctx))
		}
		if exhausted(err) {
			// This process is out of file descriptors: not FUS's failure.
			return nil, ErrUploadCapacity.WithCause(fmt.Errorf("upload: FUS call for %s: %w", uploadID, unwrapURLError(err)))
		}
		return nil, ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS call for %s: %w", uploadID, unwrapURLError(err)))
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, ErrUploadUnknown.WithCause(fmt.Errorf("upload: FUS does not know upload %s", uploadID))
	case http.StatusConflict:
		return nil, ErrUploadConflict.WithCause(fmt.Errorf("upload: FUS refused upload %s in its state", uploadID))
	default:
		return nil, ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS answered %d for upload %s", resp.StatusCode, uploadID))
	}
	var a fusAnswer
	// One value per key, valid UTF-8, nothing after the answer, at most
	// MaxFUSResponse bytes; members we do not know are the service's own.
	if err := strictjson.DecodeOpen(resp.Body, MaxFUSResponse, &a); err != nil {
		return nil, ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS answer for %s: %w", uploadID, err))
	}
	t, err := c.target(a)
	if err != nil {
		return nil, ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS answer for %s: %w", uploadID, err))
	}
	if err := c.checkTarget(zoneName, uploadID, t); err != nil {
		return nil, err
	}
	return t, nil
}

// target validates a FUS answer: the URL must point at an allowed storage
// host (WithStorageHosts) and every header must be allowed
// (WithStorageHeaders). Its errors never quote the URL; they name its
// scheme and host at most, and the header's name, never its value.
func (c *Client) target(a fusAnswer) (*Target, error) {
	u, err := url.Parse(a.URL)
	if err != nil {
		return nil, errors.New("storage URL does not parse")
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, errors.New("storage URL is not an absolute URL without credentials")
	}
	if !c.storageHosts.allows(u) {
		// No SSRF through FUS: only to storage the operator named.
		return nil, fmt.Errorf("storage URL to %s://%s is not an allowed storage host", u.Scheme, u.Host)
	}
	u.Fragment, u.RawFragment = "", ""
	h := make(http.Header, len(a.Headers))
	for name, value := range a.Headers {
		if !edge.ValidHeaderName(name) || !validHeaderValue(value) {
			return nil, fmt.Errorf("storage header %q is malformed", name)
		}
		if !c.headers.allows(name) {
			return nil, fmt.Errorf("storage header %q is not allowed", name)
		}
		key := http.CanonicalHeaderKey(name)
		if _, dup := h[key]; dup {
			return nil, fmt.Errorf("storage header %q is named twice", name)
		}
		h[key] = []string{value}
	}
	return &Target{URL: u, Header: h}, nil
}

// validHeaderValue refuses control characters, which could split headers.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
