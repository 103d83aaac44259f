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
)
