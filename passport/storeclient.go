package passport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
)

// StoreClient is a Store reached through a StorageService in another
// process. Its RoundTripper must sign: &hmacsig.Transport{Signer: s, Base: …}.
// Put sends the body's Content-Digest header, which hmacsig.Transport signs
// with the URL, as the storage service requires: a captured PUT cannot be
// replayed with another session.
// Subscribe delivers the revocations made through this client only; notices
// across processes need a shared store with pub/sub (Redis).
type StoreClient struct {
	notifier

	base    string
	rt      http.RoundTripper
	timeout time.Duration
}

var _ Store = (*StoreClient)(nil)

// NewStoreClient returns a client of the storage service at storage.URL
// (its prefix included) that sends every call through storage.Transport,
// which is required and must sign. Its one option is WithTimeout.
func NewStoreClient(storage Endpoint, opts ...StoreClientOption) (*StoreClient, error) {
	c, err := newConfig("NewStoreClient", opts, StoreClientOption.storeClientOption)
	if err != nil {
		return nil, err
	}
	u, perr := url.Parse(storage.URL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("passport: NewStoreClient: URL %q is not an absolute http(s) URL without query", storage.URL)
	}
	if storage.Transport == nil {
		return nil, errors.New("passport: NewStoreClient: a signing Transport is required")
	}
	return &StoreClient{base: strings.TrimSuffix(storage.URL, "/"), rt: edge.Outbound(storage.Transport), timeout: c.timeout}, nil
}

// Get implements Store.
func (c *StoreClient) Get(ctx context.Context, key string) (Session, error) {
	var s Session
	err := c.call(ctx, http.MethodGet, "/session?key="+url.QueryEscape(key), nil, &s)
	return s, err
}

// Put implements Store.
func (c *StoreClient) Put(ctx context.Context, key string, s Session) error {
	body, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("passport: store client: put session %s: %w", s.ID, err)
	}
	return c.call(ctx, http.MethodPut, "/session?key="+url.QueryEscape(key), body, nil)
}

// Revoke implements Store.
func (c *StoreClient) Revoke(ctx context.Context, sessionID string) error {
	return c.revoke(ctx, "session", sessionID, Revocation{SessionID: sessionID})
}

// RevokeUser implements Store.
func (c *StoreClient) RevokeUser(ctx context.Context, user string) error {
	return c.revoke(ctx, "user", user, Revocation{User: user})
}

// RevokeCompany implements Store.
func (c *StoreClient) RevokeCompany(ctx context.Context, company string) error {
	return c.revoke(ctx, "company", company, Revocation{Company: company})
}

func (c *StoreClient) revoke(ctx context.Context, kind, id string, r Revocation) error {
	if id == "" {
		return fmt.Errorf("passport: store client: revoke %s: empty id", kind)
	}
	if err := c.call(ctx, http.MethodPost, "/revoke/"+kind+"/"+url.PathEscape(id), nil, nil); err != nil {
		return err
	}
	c.notify(r)
	return nil
}

// call sends one request; path (and query) is already escaped. A 2xx answer is decoded
// into out when out is not nil; a problem answer becomes this package's
// sentinel when it names one.
func (c *StoreClient) call(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("passport: store client: %s: %w", method, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(hmacsig.ContentDigestHeader, hmacsig.ContentDigest(body))
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return ErrSessionStoreUnavailable.WithCause(fmt.Errorf("passport: store client: %s: %w", method, err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSmallBody))
		resp.Body.Close()
	}()
	if resp.StatusCode/100 != 2 {
		return c.failure(method, resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSessionBody)).Decode(out); err != nil {
		return ErrSessionStoreUnavailable.WithCause(fmt.Errorf("passport: store client: decode %s answer: %w", method, err))
	}
	return nil
}

func (c *StoreClient) failure(method string, resp *http.Response) error {
	cause := fmt.Errorf("passport: store client: %s answered %d", method, resp.StatusCode)
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == edge.ContentTypeProblem {
		var p struct {
			Code string `json:"code"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, maxSmallBody)).Decode(&p) == nil {
			switch p.Code {
			case ErrSessionUnknown.Code():
				return ErrSessionUnknown
			case ErrSessionInvalid.Code():
				return ErrSessionInvalid.WithCause(cause)
			}
			cause = fmt.Errorf("%w: %s", cause, p.Code)
		}
	}
	return ErrSessionStoreUnavailable.WithCause(cause)
}
