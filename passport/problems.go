package passport

import (
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// Problems this package answers with. Tests and clients branch on the code.
var (
	// ErrSessionMissing: the request carries no session and its route is not public.
	ErrSessionMissing = edge.NewProblem(http.StatusUnauthorized, "session_missing", "Please sign in.")
	// ErrSessionAmbiguous: the request carries two session credentials
	// (Authorization fields, or session cookies of different values).
	ErrSessionAmbiguous = edge.NewProblem(http.StatusBadRequest, "session_ambiguous",
		"The request carries more than one session. Please send one.")
	// ErrSessionUnknown: no session matches the token.
	ErrSessionUnknown = edge.NewProblem(http.StatusUnauthorized, "session_unknown", "The session is not known. Please sign in again.")
	// ErrSessionExpired: the session has expired.
	ErrSessionExpired = edge.NewProblem(http.StatusUnauthorized, "session_expired", "The session has expired. Please sign in again.")
	// ErrSessionRevoked: the session was revoked (logout, or an administrator).
	ErrSessionRevoked = edge.NewProblem(http.StatusUnauthorized, "session_revoked", "The session was ended. Please sign in again.")
	// ErrCompanyForbidden: the session may not act for the requested company.
	ErrCompanyForbidden = edge.NewProblem(http.StatusForbidden, "company_forbidden", "This session may not act for the company.")
	// ErrSessionInvalid: a session sent to the storage service is malformed.
	ErrSessionInvalid = edge.NewProblem(http.StatusBadRequest, "session_invalid", "The session is not valid.")
	// ErrSessionStoreUnavailable: the session store could not answer.
	ErrSessionStoreUnavailable = edge.NewProblem(http.StatusServiceUnavailable, "session_store_unavailable",
		"Sessions cannot be checked right now. Please retry later.")

	// ErrMethodNotAllowed: the handler does not answer this method.
	ErrMethodNotAllowed = edge.NewProblem(http.StatusMethodNotAllowed, "method_not_allowed", "The method is not allowed here.")
	// ErrNotFound: no such route on an internal service; it is edge.ErrNotFound.
	ErrNotFound = edge.ErrNotFound
	// ErrRequestInvalid: an internal call's body is malformed.
	ErrRequestInvalid = edge.NewProblem(http.StatusBadRequest, "request_invalid", "The request body is not valid.")

	// ErrInternalOnly: the authentication service was called from outside.
	ErrInternalOnly = edge.NewProblem(http.StatusForbidden, "internal_only", "This service is internal.")
	// ErrAuthUnavailable: the gateway could not get a passport from the authentication service.
	ErrAuthUnavailable = edge.NewProblem(http.StatusBadGateway, "auth_unavailable",
		"Authentication is not available right now. Please retry later.")

	// ErrZoneMisdirected: the request reached the gateway of another zone.
	ErrZoneMisdirected = edge.NewProblem(http.StatusMisdirectedRequest, "zone_misdirected",
		"The request reached the gateway of another zone.")

	// ErrZoneForbidden: the request names no company and the session may
	// act for no company of the gateway's zone.
	ErrZoneForbidden = edge.NewProblem(http.StatusForbidden, "zone_forbidden",
		"This session may not act for any company of this zone.")

	// ErrPassportMissing: a cell received a request without a passport.
	ErrPassportMissing = edge.NewProblem(http.StatusUnauthorized, "passport_missing", "The request carries no passport.")
	// ErrPassportInvalid: the passport is malformed, badly signed, not yet
	// valid, issued in the future, meant for another cell or issuer, lacks
	// a required claim (iat among them) or names a crit header.
	ErrPassportInvalid = edge.NewProblem(http.StatusUnauthorized, "passport_invalid", "The passport is not valid.")
	// ErrPassportExpired: the passport has expired.
	ErrPassportExpired = edge.NewProblem(http.StatusUnauthorized, "passport_expired", "The passport has expired.")
	// ErrPassportLifetimeTooLong: the passport's exp is further from its
	// iat, or from now, than the Verifier's WithMaxLifetime.
	ErrPassportLifetimeTooLong = edge.NewProblem(http.StatusUnauthorized, "passport_lifetime_too_long",
		"The passport lives longer than this cell accepts.")
	// ErrKeysUnavailable: a Verifier has no keys yet because the JWKS could not be fetched.
	ErrKeysUnavailable = edge.NewProblem(http.StatusServiceUnavailable, "passport_keys_unavailable",
		"Passports cannot be checked right now. Please retry later.")
	// ErrKeysStale: every JWKS fetch has failed for longer than the
	// Verifier's WithJWKSMaxStale, so the keys it holds are no longer
	// trusted (one may have been withdrawn); it refuses until a fetch succeeds.
	ErrKeysStale = edge.NewProblem(http.StatusServiceUnavailable, "passport_keys_stale",
		"Passports cannot be checked right now. Please retry later.")
)

// companyMissing returns zone.ErrCompanyMissing naming header, the public
// header clients name their company with ("" when there is none).
func companyMissing(header string) *edge.Problem {
	switch {
	case header == "":
		return zone.ErrCompanyMissing.WithDetail("Missing company id!")
	case http.CanonicalHeaderKey(header) == zone.DefaultCompanyHeader:
		return zone.ErrCompanyMissing
	}
	return zone.ErrCompanyMissing.WithDetail("Missing " + header + " header!")
}

// refusals are the problems the authentication service answers that the
// Gateway passes on to the client as they are.
var refusals = map[string]*edge.Problem{
	ErrSessionUnknown.Code():   ErrSessionUnknown,
	ErrSessionExpired.Code():   ErrSessionExpired,
	ErrSessionRevoked.Code():   ErrSessionRevoked,
	ErrCompanyForbidden.Code(): ErrCompanyForbidden,
	ErrZoneForbidden.Code():    ErrZoneForbidden,
	// The store is down: the client hears it as it is, 503 with
	// Retry-After, and no session is guessed valid (fail closed).
	ErrSessionStoreUnavailable.Code(): ErrSessionStoreUnavailable,
	ErrZoneMisdirected.Code():         ErrZoneMisdirected,
	zone.ErrCompanyUnknown.Code():     zone.ErrCompanyUnknown,
}
