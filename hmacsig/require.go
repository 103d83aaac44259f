package hmacsig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

var keyIDKey = edge.NewKey[string]("hmacsig.key_id")

// KeyIDFromContext returns the name of the key that verified the request in
// [Require]: the URL's kid for a key of Keys.ByID, "current" or "previous"
// for the unnamed keys (so logs show when Previous can be retired), and ""
// when the request was not verified.
func KeyIDFromContext(ctx context.Context) string { return keyIDKey.Value(ctx) }

// ContextWithKeyID returns a copy of ctx carrying kid as the key that
// verified the request, for tests of handlers behind [Require].
func ContextWithKeyID(ctx context.Context, kid string) context.Context {
	return keyIDKey.With(ctx, kid)
}

// RequireOption configures [Require]. It is its own type, so an option of
// NewSigner or NewVerifier cannot be passed to Require by mistake.
type RequireOption interface{ requireOption() requireOpt }

// requireOpt is one option of Require: its name and what it does.
type requireOpt struct {
	name  string
	apply func(*requireConfig) error
}

func (o requireOpt) requireOption() requireOpt { return o }

type requireConfig struct {
	digestFor map[string]bool // upper-case methods that must carry a signed Content-Digest
}

// RequireContentDigest makes [Require] refuse, with 403
// content_digest_missing, a request of one of methods (compared after ASCII
// upper-casing) whose signature does not cover a Content-Digest, so a
// replayed URL cannot carry another body: name the methods whose handlers
// read the body (PUT, POST, PATCH). By default no method needs one. At
// least one method is required, each 1–20 ASCII letters; anything else is
// an error from Require.
func RequireContentDigest(methods ...string) RequireOption {
	return requireOpt{"RequireContentDigest", func(c *requireConfig) error {
		if len(methods) == 0 {
			return errors.New("no method")
		}
		for _, m := range methods {
			if len(m) == 0 || len(m) > 20 || strings.IndexFunc(m, func(r rune) bool {
				return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z')
			}) >= 0 {
				return fmt.Errorf("method %q is not 1-20 ASCII letters", m)
			}
			if c.digestFor == nil {
				c.digestFor = make(map[string]bool, len(methods))
			}
			c.digestFor[strings.ToUpper(m)] = true
		}
		return nil
	}}
}

// Require is a middleware that lets through only requests whose URL
// signature v verifies, and answers every other request with a 403 problem
// whose code is that of the failure (signature_malformed, signature_missing,
// signature_expired, signature_lifetime_too_long, signature_mismatch,
// content_digest_missing, content_digest_malformed).
// A verified request carries the key's name (see [KeyIDFromContext]), which is
// also added to its access log line as key_id.
//
// Put Require before anything that reads the body: a rejected client then
// never sends it (100 Continue is only sent on the first read).
//
// # Bodies
//
// A URL signed with a Content-Digest ([Signer.SignContent],
// [Transport].ContentDigest) binds the body too. Require checks the header
// before the handler runs, but the body streams: it is hashed as the handler
// reads it, and its last Read returns [ErrContentDigestMismatch] instead of
// io.EOF when it is not the signed body. A middleware cannot un-act a
// streamed body, so a handler behind Require must read the body to io.EOF
// and check that error before it acts on what it read (stores a decoded
// value, commits an upload): a JSON decoder stops at the end of the value,
// before the end of the body. [RequireContentDigest] makes the digest
// mandatory for the methods it names.
//
// A nil v, a nil option or an invalid one is an error.
func Require(v *Verifier, opts ...RequireOption) (func(http.Handler) http.Handler, error) {
	if v == nil {
		return nil, errors.New("hmacsig: Require: nil Verifier")
	}
	var c requireConfig
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("hmacsig: Require: zero Option")
		}
		op := o.requireOption()
		if err := op.apply(&c); err != nil {
			return nil, fmt.Errorf("hmacsig: Require: %s: %w", op.name, err)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kid, bodyBound, err := v.verify(r)
			if err == nil && !bodyBound && c.digestFor[requestMethod(r)] {
				err = ErrContentDigestMissing
			}
			v.observe(r.Context(), err)
			if err != nil {
				if v.logger != nil {
					// The path may be logged, the query never: it holds the signature.
					v.logger.LogAttrs(r.Context(), slog.LevelInfo, "signed URL rejected",
						slog.String("method", r.Method), slog.String("path", r.URL.Path),
						slog.String("error", err.Error()),
						slog.String("request_id", edge.RequestIDFromContext(r.Context())))
				}
				edge.WriteProblem(w, r, err)
				return
			}
			ctx := r.Context()
			edge.AddLogAttrs(ctx, slog.String("key_id", kid))
			next.ServeHTTP(w, r.WithContext(keyIDKey.With(ctx, kid)))
		})
	}, nil
}

// requestMethod is r's method upper-cased (ASCII), GET when empty, as the
// string to sign has it.
func requestMethod(r *http.Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(r.Method)
}
