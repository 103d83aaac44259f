package standin

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/upload"
)

// DefaultS3Region is the region signed for when S3.Region is empty; MinIO's
// default too.
const DefaultS3Region = "us-east-1"

// maxS3Expiry is the longest life SigV4 allows a presigned URL.
const maxS3Expiry = 7 * 24 * time.Hour

// S3 presigns requests to one bucket of S3 or of an S3-compatible store
// (MinIO) with AWS Signature Version 4, path-style:
// {Endpoint}/{Bucket}/{object}. It is what a file upload service does with
// an SDK, written with the standard library so the examples need none.
type S3 struct {
	// Endpoint is the service's base URL: "http://127.0.0.1:9000",
	// "https://s3.eu-west-1.amazonaws.com". A default port is dropped, so
	// the signed host is the Host header every client sends.
	Endpoint string
	// Region is signed into every request; DefaultS3Region when empty.
	Region string
	// Bucket holds the objects; required.
	Bucket string
	// AccessKey and SecretKey are the credentials; required, never logged.
	AccessKey, SecretKey string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Transport carries the requests S3 makes itself (creating multipart
	// uploads); edge.NewTransport() when nil.
	Transport http.RoundTripper
}

// Validate reports what is missing or malformed in the configuration,
// naming no secret.
func (s *S3) Validate() error {
	if _, err := s.endpoint(); err != nil {
		return err
	}
	if s.Bucket == "" || s.AccessKey == "" || s.SecretKey == "" {
		return errors.New("standin: s3: a bucket, an access key and a secret key are required")
	}
	return nil
}

// URL returns the endpoint as requests use it, without a default port.
func (s *S3) URL() (*url.URL, error) { return s.endpoint() }

func (s *S3) endpoint() (*url.URL, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, errors.New("standin: s3: the endpoint must be an absolute http(s) URL without query or credentials")
	}
	if host, port, err := net.SplitHostPort(u.Host); err == nil &&
		(u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		u.Host = host
		if strings.Contains(host, ":") {
			u.Host = "[" + host + "]" // IPv6
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// PresignPut presigns a PUT of object: the whole object when part is 0,
// else part number part of the multipart upload uploadID (UploadPart).
// The URL carries the signature; never log it.
func (s *S3) PresignPut(object string, part int, uploadID string, expires time.Duration) (string, error) {
	var q url.Values
	if part != 0 {
		if part < 1 || part > upload.MaxPartNumber || uploadID == "" {
			return "", fmt.Errorf("standin: s3: part %d of upload %q cannot be presigned", part, uploadID)
		}
		q = url.Values{"partNumber": {strconv.Itoa(part)}, "uploadId": {uploadID}}
	}
	return s.Presign(http.MethodPut, object, q, expires)
}

// Presign presigns method on object with the extra query parameters q
// (nil for none). The payload is not signed (UNSIGNED-PAYLOAD) and the only
// signed header is Host, so the client may send any body and length.
func (s *S3) Presign(method, object string, q url.Values, expires time.Duration) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	if object == "" {
		return "", errors.New("standin: s3: an object name is required")
	}
	u, _ := s.endpoint()
	return s.presignURL(method, u, "/"+s.Bucket+"/"+object, q, expires)
}

// presignURL presigns method on base with path appended to its path (the
// path is escaped here, per AWS's rules).
func (s *S3) presignURL(method string, base *url.URL, path string, q url.Values, expires time.Duration) (string, error) {
	if expires < time.Second || expires > maxS3Expiry {
		return "", fmt.Errorf("standin: s3: a presigned URL lives from 1 second to 7 days, not %s", expires)
	}
	at := s.now().UTC()
	scope := s.scope(at)
	signed := url.Values{}
	for k, v := range q {
		signed[k] = v
	}
	signed.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	signed.Set("X-Amz-Credential", s.AccessKey+"/"+scope)
	signed.Set("X-Amz-Date", at.Format(amzDateFormat))
	signed.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	signed.Set("X-Amz-SignedHeaders", "host")

	escapedPath := uriEncode(base.Path+path, false)
	query := canonicalQuery(signed)
	canonical := strings.Join([]string{
		method, escapedPath, query,
		"host:" + base.Host + "\n", "host", "UNSIGNED-PAYLOAD",
	}, "\n")
	sig := s.signature(at, scope, canonical)
	return base.Scheme + "://" + base.Host + escapedPath + "?" + query + "&X-Amz-Signature=" + sig, nil
}

// amzDateFormat is SigV4's timestamp, ISO 8601 basic format in UTC.
const amzDateFormat = "20060102T150405Z"

// emptySHA256 is the hash of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (s *S3) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *S3) region() string {
	if s.Region != "" {
		return s.Region
	}
	return DefaultS3Region
}

// scope is the credential scope: date/region/s3/aws4_request.
func (s *S3) scope(at time.Time) string {
	return at.Format("20060102") + "/" + s.region() + "/s3/aws4_request"
}

// signature signs the canonical request with the day's derived key.
func (s *S3) signature(at time.Time, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + at.Format(amzDateFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + s.SecretKey)
	for _, part := range []string{at.Format("20060102"), s.region(), "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// canonicalQuery encodes q sorted by name then value, every name and value
// escaped per AWS: the form SigV4 signs, and a valid query string too.
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.v, b.v)) })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// uriEncode escapes every byte but A-Za-z0-9-_.~ as %XX (upper case hex),
// and '/' too when encodeSlash: AWS's UriEncode, which differs from
// url.PathEscape ('!', '$', '+', …) and url.QueryEscape (' ' as '+').
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// S3Error is an error answer of S3: its status and code (AccessDenied,
// NoSuchBucket, SignatureDoesNotMatch…).
type S3Error struct {
	Status int
	Code   string
}

// Error names the status and code, never a URL or a credential.
func (e *S3Error) Error() string {
	return fmt.Sprintf("standin: s3: status %d, code %s", e.Status, e.Code)
}

// maxS3Answer bounds the XML read from S3: its answers here are a few
// hundred bytes.
const maxS3Answer = 64 << 10

// CreateMultipartUpload starts a multipart upload of object and returns
// its upload id (POST /{bucket}/{object}?uploads, signed in headers).
// Completing or aborting it is the uploader's business.
func (s *S3) CreateMultipartUpload(ctx context.Context, object string) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	if object == "" {
		return "", errors.New("standin: s3: an object name is required")
	}
	base, _ := s.endpoint()
	path := uriEncode(base.Path+"/"+s.Bucket+"/"+object, false)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.Scheme+"://"+base.Host+path+"?uploads=", http.NoBody)
	if err != nil {
		return "", fmt.Errorf("standin: s3: create multipart upload: %w", err)
	}
	s.signHeaders(req, base.Host, path, "uploads=")
	rt := s.Transport
	if rt == nil {
		rt = edge.NewTransport()
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("standin: s3: create multipart upload: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxS3Answer)
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code string }
		if xml.NewDecoder(body).Decode(&e) != nil || e.Code == "" {
			e.Code = "unknown"
		}
		return "", &S3Error{Status: resp.StatusCode, Code: e.Code}
	}
	// A 200 may still carry an <Error>: then there is no UploadId.
	var created struct {
		UploadID string `xml:"UploadId"`
		Code     string `xml:"Code"`
	}
	if err := xml.NewDecoder(body).Decode(&created); err != nil {
		return "", fmt.Errorf("standin: s3: create multipart upload: reading the answer: %w", err)
	}
	if created.UploadID == "" {
		return "", &S3Error{Status: resp.StatusCode, Code: cmp.Or(created.Code, "NoUploadId")}
	}
	return created.UploadID, nil
}

// signHeaders signs req, which has no body, in its Authorization header;
// path and query are already in canonical form.
func (s *S3) signHeaders(req *http.Request, host, path, query string) {
	at := s.now().UTC()
	scope := s.scope(at)
	req.Header.Set("X-Amz-Date", at.Format(amzDateFormat))
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	const signedHeaders = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{
		req.Method, path, query,
		"host:" + host + "\nx-amz-content-sha256:" + emptySHA256 + "\nx-amz-date:" + at.Format(amzDateFormat) + "\n",
		signedHeaders, emptySHA256,
	}, "\n")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.AccessKey+"/"+scope+
		", SignedHeaders="+signedHeaders+", Signature="+s.signature(at, scope, canonical))
}
