package reference

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// Paths of the authentication service.
const (
	PassportsPath = "/passports"             // POST: a session becomes a passport
	JWKSPath      = "/.well-known/jwks.json" // GET: the keys cells verify passports with
)

// AuthenticationConfig configures the authentication service.
type AuthenticationConfig struct {
	// Sessions is the session store, usually a passport.StoreClient of the
	// session storage API; required.
	Sessions passport.Store
	// Issuer mints the passports; required.
	Issuer *passport.Issuer
	// Directory places companies in zones: the service mints a passport
	// for a zone only where the session may act for a company; required.
	Directory zone.Directory
	// Signed, when set, also admits calls signed with the auth key, for
	// gateways in other processes. Without it only edge.Binding calls are
	// answered.
	Signed *hmacsig.Verifier
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
	// Residency, when set, checks every directory answer: no passport for
	// a company in a zone outside its region (503 residency_mismatch).
	Residency *geofence.Residency
}

// NewAuthentication returns the internal-only authentication service:
// POST PassportsPath for the gateways, GET JWKSPath for the cells. Minting
// answers only calls through an edge.Binding or signed with the auth key:
// anything else is a 403 internal_only, so a stray public listener exposes
// nothing.
func NewAuthentication(cfg AuthenticationConfig) (http.Handler, error) {
	if cfg.Issuer == nil {
		return nil, errors.New("reference: authentication: an issuer is required")
	}
	var opts []passport.AuthServiceOption
	if cfg.Signed != nil {
		opts = append(opts, passport.WithSignedCalls(cfg.Signed))
	}
	dir := cfg.Directory
	if cfg.Residency != nil && dir != nil {
		dir = cfg.Residency.Directory(dir)
	}
	auth, err := passport.NewAuthService(cfg.Sessions, cfg.Issuer, dir, opts...)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(PassportsPath, auth)
	mux.Handle("GET "+JWKSPath, cfg.Issuer.JWKSHandler())

	log := edge.WithLogger(logger(cfg.Logger, "authentication"))
	trusted := edge.WithTrust(edge.TrustBinding)
	var l links
	chain := edge.Chain(
		l.add(tracing.Middleware("authentication")), // internal: continues the caller's trace
		l.add(edge.RequestID(trusted)),
		l.add(edge.AccessLog(log)),
		l.add(edge.Recover(log)),
		l.add(edge.StripInternal(trusted)),
		tracing.Route,
	)
	if l.err != nil {
		return nil, l.err
	}
	return chain(mux), nil
}
