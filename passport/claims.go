package passport

import (
	"context"

	"github.com/cellgate/cellgate/edge"
	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a passport. Audience holds the one zone (cell)
// the passport is for, and Zone repeats it; CompanyID is empty when the
// request named no company; SessionID is the session's ID, never its token.
type Claims struct {
	jwt.RegisteredClaims
	CompanyID string `json:"company_id,omitempty"`
	Zone      string `json:"zone"`
	SessionID string `json:"sid"`
	// Variants are the session's experiment variants, experiment key to
	// variant name, as the issuer's WithVariants hook assigned them;
	// empty without experiments.
	Variants map[string]string `json:"variants,omitempty"`
}

var claimsKey = edge.NewKey[*Claims]("passport.claims")

// ClaimsFromContext returns the verified claims of the request whose context is
// ctx, as set by a Verifier's Middleware, or nil when there are none.
func ClaimsFromContext(ctx context.Context) *Claims { return claimsKey.Value(ctx) }

// ContextWithClaims returns a copy of ctx carrying c, for tests and for work
// started outside a request.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context { return claimsKey.With(ctx, c) }
