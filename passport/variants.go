package passport

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// HeaderVariants is the internal header in which the Gateway forwards the
// experiment variants of the passport it injects ("key=variant" pairs
// sorted by key and joined by ", ", the form of zone/experiment's
// Variants.String and the value of experiment.Header). The Gateway deletes
// every inbound spelling of it on every request, passport or not, so what
// follows it reads only what the authentication service signed.
const HeaderVariants = "Cellgate-Experiments"

// maxVariants bounds the variants of one passport (experiment.MaxVariants).
const maxVariants = 32

// Subject is whom a passport is minted for, as an experiment assignment
// sees it (WithVariants).
type Subject struct {
	User      string // the session's user, the passport's sub
	SessionID string // the session's ID, never its token
	CompanyID string // the company the passport is for, "" for none
	Zone      string // the zone (cell) the passport is for
}

// WithVariants makes an Issuer sign into every passport it mints the
// experiment variants assign returns for its subject (Claims.Variants, the
// "variants" claim): experiment key to variant name, each 1 to 64 of
// A-Z a-z 0-9 _ . -, at most 32. The AuthService returns them beside the
// passport and the Gateway forwards them in HeaderVariants. assign runs at
// every mint, not every request: it must be deterministic in the subject
// (zone/experiment's Set.Assign is), since a passport is cached and
// reminted. The default is no variants; nil is an error. NewIssuer reads it.
func WithVariants(assign func(Subject) map[string]string) IssuerOption {
	return issuerOpt{"WithVariants", func(c *config) error {
		if assign == nil {
			return errors.New("nil assignment (leave the option out for none)")
		}
		c.variants = assign
		return nil
	}}
}

// assign returns the variants to sign for session s acting for company in
// zoneName, refusing what HeaderVariants could not carry.
func (i *Issuer) assign(s Session, company, zoneName string) (map[string]string, error) {
	if i.variants == nil {
		return nil, nil
	}
	v := i.variants(Subject{User: s.User, SessionID: s.ID, CompanyID: company, Zone: zoneName})
	if _, err := formatVariants(v); err != nil {
		return nil, fmt.Errorf("passport: mint for session %s: WithVariants: %w", s.ID, err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return maps.Clone(v), nil
}

// formatVariants returns HeaderVariants' value for v, "" for none.
func formatVariants(v map[string]string) (string, error) {
	if len(v) > maxVariants {
		return "", fmt.Errorf("%d variants, more than %d", len(v), maxVariants)
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(v)) {
		if !validVariantName(k) || !validVariantName(v[k]) {
			return "", fmt.Errorf("variant %q=%q: want 1 to 64 of A-Z a-z 0-9 _ . -", k, v[k])
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v[k])
	}
	return b.String(), nil
}

// validVariantName reports whether s is a valid experiment key or variant
// name: safe as it is in a header, a JSON claim and a metric attribute.
func validVariantName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
