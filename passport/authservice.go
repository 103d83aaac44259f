package passport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/zone"
)

// authRequest is what the Gateway sends the authentication service: the
// session's TokenKey, never the token itself, and what the passport is for.
type authRequest struct {
	SessionKey string `json:"session_key"`
	CompanyID  string `json:"company_id,omitempty"`
	Zone       string `json:"zone"`
}

// authResponse is the authentication service's answer. SessionID and User
// let the Gateway drop the cached passport when a revocation names them.
type authResponse struct {
	Passport  string    `json:"passport"`
	KeyID     string    `json:"key_id"`
	SessionID string    `json:"session_id"`
	User      string    `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
	// Variants repeats the passport's signed variants claim, so that the
	// gateway forwards them (HeaderVariants) without parsing the passport.
	Variants map[string]string `json:"variants,omitempty"`
}

// AuthService is the internal-only authentication service: it turns a
// session into a passport. It answers only requests that arrived through an
// edge.Binding (WithTrust) or carry a valid hmacsig signature
// (WithSignedCalls); anything else gets 403 internal_only, so mounting it on
// a public listener by accident exposes nothing.
//
// Before it mints, the service checks the zone itself, whatever the gateway
// did: a company must be one the session may act for and live in the
// requested zone (403 company_forbidden, 421 zone_misdirected, 404
// company_unknown); a passport without a company is minted only for a zone
// in which the session may act for at least one company (403 zone_forbidden).
//
// Wire format: POST, body {"session_key": TokenKey(token), "company_id": "42",
// "zone": "us01"}; answer 200 {"passport", "key_id", "session_id", "user",
// "expires_at", "variants" (when the passport has them)} or a problem (session_unknown, session_expired,
// session_revoked, company_forbidden, zone_forbidden, zone_misdirected,
// company_unknown, session_store_unavailable, zone_directory_unavailable).
type AuthService struct {
	store  Store
	issuer *Issuer
	dir    zone.Directory
	trust  edge.Trust
	signed *hmacsig.Verifier
}

// NewAuthService returns the authentication service over store and issuer,
// which checks every company's zone against dir.
// Its options are the AuthServiceOptions: WithTrust (default
// edge.TrustBinding) and WithSignedCalls.
func NewAuthService(store Store, issuer *Issuer, dir zone.Directory, opts ...AuthServiceOption) (*AuthService, error) {
	if store == nil || issuer == nil || dir == nil {
		return nil, errors.New("passport: auth service: store, issuer and zone directory are required")
	}
	c, err := newConfig("NewAuthService", opts, AuthServiceOption.authServiceOption)
	if err != nil {
		return nil, err
	}
	return &AuthService{store: store, issuer: issuer, dir: dir, trust: c.trust, signed: c.signed}, nil
}

// ServeHTTP implements http.Handler.
func (a *AuthService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := a.admit(r); err != nil {
		edge.WriteProblem(w, r, ErrInternalOnly.WithCause(err))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		edge.WriteProblem(w, r, ErrMethodNotAllowed)
		return
	}
	var req authRequest
	// decodeJSON reads the body to its end before decoding, where hmacsig
	// checks a signed Content-Digest: a body that is not the signed one
	// fails here with hmacsig's problem.
	if err := decodeJSON(r.Body, maxSmallBody, &req); err != nil {
		var p *edge.Problem
		if !errors.As(err, &p) {
			err = ErrRequestInvalid.WithCause(err)
		}
		edge.WriteProblem(w, r, err)
		return
	}
	if !validKey(req.SessionKey) || !zone.ValidZoneName(req.Zone) {
		edge.WriteProblem(w, r, ErrRequestInvalid.WithCause(errors.New("passport: auth: bad session key or no zone")))
		return
	}
	s, err := a.store.Get(r.Context(), req.SessionKey)
	if err != nil {
		if !errors.Is(err, ErrSessionUnknown) {
			err = ErrSessionStoreUnavailable.WithCause(err)
			w.Header().Set("Retry-After", "1") // a store outage is usually short
		}
		edge.WriteProblem(w, r, err)
		return
	}
	edge.AddLogAttrs(r.Context(), slog.String("session_id", s.ID), slog.String("user", s.User))
	if err := a.checkZone(r.Context(), s, req.CompanyID, req.Zone); err != nil {
		var p *edge.Problem
		if !errors.As(err, &p) {
			zone.WriteLookupError(w, r, err)
			return
		}
		edge.WriteProblem(w, r, err)
		return
	}
	token, claims, kid, err := a.issuer.mint(s, req.CompanyID, req.Zone)
	if err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	edge.AddLogAttrs(r.Context(), slog.String("key_id", kid))
	w.Header().Set("Cache-Control", "no-store")
	edge.WriteJSON(w, http.StatusOK, authResponse{
		Passport: token, KeyID: kid, SessionID: s.ID, User: s.User,
		ExpiresAt: claims.ExpiresAt.Time, Variants: claims.Variants,
	})
}

// checkZone returns nil when session s may get a passport for company (or
// for no company) in zoneName: a problem when it may not, or the directory's
// error when the directory cannot tell.
func (a *AuthService) checkZone(ctx context.Context, s Session, company, zoneName string) error {
	if company != "" {
		if !s.MayActFor(company) {
			return ErrCompanyForbidden
		}
		z, err := a.dir.Lookup(ctx, company)
		if err != nil {
			return err
		}
		if z.Name != zoneName {
			return ErrZoneMisdirected.WithCause(fmt.Errorf("passport: auth: company %s is in zone %s, not %s", company, z.Name, zoneName))
		}
		return nil
	}
	var failed error
	for _, c := range s.Companies {
		z, err := a.dir.Lookup(ctx, c)
		switch {
		case err == nil && z.Name == zoneName:
			return nil
		case err != nil && !errors.Is(err, zone.ErrUnknownCompany) && failed == nil:
			failed = err
		}
	}
	if failed != nil {
		return failed // the directory could not tell: never guess
	}
	return ErrZoneForbidden
}

// admit reports why r may not call the service, or nil.
func (a *AuthService) admit(r *http.Request) error {
	if a.trust(r) {
		return nil
	}
	if a.signed == nil {
		return errors.New("passport: auth: untrusted caller and no signed calls accepted")
	}
	// The body names the session and company: a signed URL must bind it,
	// or one captured URL would mint for any session within its lifetime.
	return a.signed.VerifyContent(r)
}
