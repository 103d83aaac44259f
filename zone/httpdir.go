package zone

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// HTTPDirectory is a Directory that asks a directory service over HTTP:
//
//	GET {base}/companies/{company}
//	200 {"zone": "us01", "web_base_url": "https://us01.example.com"}
//	404 for an unknown company
//
// The answer is decoded strictly (unknown fields are errors) within a size
// limit (WithMaxResponseBytes) and must name a valid zone. Calls go through
// the RoundTripper of WithTransport, such as an hmacsig signing transport,
// with the request ID propagated; redirects are not followed.
type HTTPDirectory struct {
	prefix  string // {base}/companies/
	client  *http.Client
	maxBody int64
}

// NewHTTPDirectory returns a directory client for the service at baseURL,
// an absolute http(s) URL. Options (HTTPDirectoryOption): WithTransport,
// WithMaxResponseBytes.
func NewHTTPDirectory(baseURL string, opts ...HTTPDirectoryOption) (*HTTPDirectory, error) {
	c, err := newConfig("NewHTTPDirectory", opts, HTTPDirectoryOption.httpDirectoryOption)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("zone: http directory: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("zone: http directory %q: want an absolute http(s) URL without query", u.Redacted())
	}
	rt := c.transport
	if rt == nil {
		rt = edge.NewTransport()
	}
	return &HTTPDirectory{
		prefix: strings.TrimSuffix(u.String(), "/") + "/companies/",
		client: &http.Client{
			Transport:     edge.Outbound(rt),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBody: c.maxBody,
	}, nil
}

// Lookup implements Directory.
func (d *HTTPDirectory) Lookup(ctx context.Context, company string) (Zone, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.prefix+url.PathEscape(company), nil)
	if err != nil {
		return Zone{}, fmt.Errorf("zone: directory lookup %s: %w", company, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return Zone{}, fmt.Errorf("zone: directory lookup %s: %w", company, err)
	}
	body := io.LimitReader(resp.Body, d.maxBody)
	defer func() {
		io.Copy(io.Discard, body) // within the limit, so the connection can be reused
		resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return Zone{}, fmt.Errorf("zone: directory lookup %s: %w", company, ErrUnknownCompany)
	default:
		return Zone{}, fmt.Errorf("zone: directory lookup %s: status %d", company, resp.StatusCode)
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var z Zone
	if err := dec.Decode(&z); err != nil {
		return Zone{}, fmt.Errorf("zone: directory lookup %s: decoding answer: %w", company, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Zone{}, fmt.Errorf("zone: directory lookup %s: data after the answer", company)
	}
	if err := validateZone(z); err != nil {
		return Zone{}, fmt.Errorf("zone: directory lookup %s: %w", company, err)
	}
	return z, nil
}
