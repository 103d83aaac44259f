package reference

import (
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
)

// SessionStorageConfig configures the session storage service.
type SessionStorageConfig struct {
	// Store holds the sessions; required. Subscribe the gateways to it so
	// a revocation drops their cached passports at once.
	Store passport.Store
	// Verifier checks the signature (the sessions key) of every call;
	// required.
	Verifier *hmacsig.Verifier
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
}

// NewSessionStorage returns the session storage API (passport.StorageService):
// sessions read and written by internal systems, and revocation by session,
// user or company, every call signed with the sessions key. It may sit on a
// public host: an unsigned call is a 403 before the store is touched.
func NewSessionStorage(cfg SessionStorageConfig) (http.Handler, error) {
	svc, err := passport.NewStorageService(cfg.Store, cfg.Verifier)
	if err != nil {
		return nil, err
	}
	log := edge.WithLogger(logger(cfg.Logger, "sessionstorage"))
	trusted := edge.WithTrust(edge.TrustBinding)
	var l links
	chain := edge.Chain(
		l.add(edge.RequestID(trusted)),
		l.add(edge.AccessLog(log)),
		l.add(edge.Recover(log)),
		l.add(edge.StripInternal(trusted)),
	)
	// A call from the internet starts a new trace; one through a binding
	// (authentication, a cell's login) continues its caller's.
	publicSpan := l.add(tracing.Middleware("session-storage", tracing.Root()))
	internalSpan := l.add(tracing.Middleware("session-storage"))
	if l.err != nil {
		return nil, l.err
	}
	h := chain(svc)
	public, internal := publicSpan(h), internalSpan(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if edge.ViaBinding(r) {
			internal.ServeHTTP(w, r)
			return
		}
		public.ServeHTTP(w, r)
	}), nil
}
