package hmacsig

import (
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// Problems a [Verifier] returns and [Require] answers with, one per failure
// of the spec (SPEC.md, "Verification"). They are errors.Is-able by code,
// also when they carry an internal cause.
var (
	// ErrMalformed: the URL breaks a syntax rule, or sig, expires_at or kid
	// is present but not of its form.
	ErrMalformed = edge.NewProblem(http.StatusForbidden, "signature_malformed",
		"The URL signature or the signed URL is malformed.")
	// ErrMissing: the URL has no sig or no expires_at parameter.
	ErrMissing = edge.NewProblem(http.StatusForbidden, "signature_missing",
		"The URL is not signed.")
	// ErrExpired: the URL expired (beyond the verifier's leeway).
	ErrExpired = edge.NewProblem(http.StatusForbidden, "signature_expired",
		"The signed URL has expired.")
	// ErrLifetimeTooLong: the URL expires further in the future than the
	// verifier's maximum lifetime allows.
	ErrLifetimeTooLong = edge.NewProblem(http.StatusForbidden, "signature_lifetime_too_long",
		"The signed URL expires too far in the future.")
	// ErrMismatch: no configured key produced the URL's signature for this
	// method, path and query (an unknown kid included).
	ErrMismatch = edge.NewProblem(http.StatusForbidden, "signature_mismatch",
		"The URL signature does not match.")

	// ErrContentDigestMissing: the URL's signature covers a Content-Digest
	// but the request has no Content-Digest header, or [Require] was told
	// to require one for the request's method ([RequireContentDigest]) and
	// the URL does not cover one.
	ErrContentDigestMissing = edge.NewProblem(http.StatusForbidden, "content_digest_missing",
		"The signature does not cover the request body: a signed Content-Digest is required.")
	// ErrContentDigestMalformed: the URL's signature covers a Content-Digest
	// but the request's Content-Digest is not exactly one field line holding
	// exactly one sha-256 member in canonical form.
	ErrContentDigestMalformed = edge.NewProblem(http.StatusForbidden, "content_digest_malformed",
		"The Content-Digest header is malformed.")
	// ErrContentDigestMismatch: the body does not have the signed
	// Content-Digest. It is the error a verified request's body returns at
	// its end instead of io.EOF; a handler that reads to the end sees it
	// before it acts (see [Require]).
	ErrContentDigestMismatch = edge.NewProblem(http.StatusForbidden, "content_digest_mismatch",
		"The request body does not match its signed Content-Digest.")
)
