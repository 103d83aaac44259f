package reference

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/zone"
	"github.com/rs/cors"
)

// CellRouterConfig configures the cell router of the API host.
type CellRouterConfig struct {
	// Directory maps companies to zones; required.
	Directory zone.Directory
	// Gateways says how each zone's gateway is reached; required.
	Gateways map[string]zone.Endpoint
	// CORSOrigins are the browser origins allowed to call the API, such as
	// the zones' web fronts. None: no cross-origin calls.
	CORSOrigins []string
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
	// Geofence, when set, keeps each company in its region (the directory
	// checked, every gateway hop guarded) and applies the client location
	// policies before routing.
	Geofence *GeofenceConfig
}

// NewCellRouter returns the API host: GET /rest/v1.0/company_base_url
// answered from the directory, and every other request routed to the
// gateway of its company's zone, named by the Procore-Company-Id header,
// the path or the query.
func NewCellRouter(cfg CellRouterConfig) (http.Handler, error) {
	if cfg.Directory == nil {
		return nil, errors.New("reference: cell router: a directory is required")
	}
	if err := cfg.Geofence.check(); err != nil {
		return nil, err
	}
	gateways := make(map[string]zone.Endpoint, len(cfg.Gateways))
	for name, ep := range cfg.Gateways {
		var err error
		if ep.Transport, err = cfg.Geofence.transport(name, ep.Transport); err != nil {
			return nil, err
		}
		gateways[name] = ep
	}
	router, err := zone.NewRouter(gateways, zone.WithLogger(logger(cfg.Logger, "router")))
	if err != nil {
		return nil, err
	}
	dir := cfg.Geofence.directory(cfg.Directory)
	residency, location, err := cfg.Geofence.stages(true)
	if err != nil {
		return nil, err
	}
	detect, err := zone.DetectCompany()
	if err != nil {
		return nil, err
	}
	resolve, err := zone.Resolve(dir)
	if err != nil {
		return nil, err
	}
	baseURLHandler, err := zone.NewBaseURLHandler(dir)
	if err != nil {
		return nil, err
	}
	baseURL := detect(baseURLHandler)
	routed := edge.Chain(chain(detect, resolve, residency, location)...)(router)
	// One route of its own and everything else to the cells: a ServeMux
	// with a "/" catch-all would cost ~9 allocations per routed request
	// (it matches twice, the second time for a trailing-slash redirect)
	// and name every span after "/".
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == BaseURLPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			baseURL.ServeHTTP(w, r)
			return
		}
		routed.ServeHTTP(w, r)
	})

	log := edge.WithLogger(logger(cfg.Logger, "router"))
	var l links
	chain := edge.Chain(
		l.add(tracing.Middleware("router", tracing.Root(), tracing.WithTrust(cfg.Geofence.forwardedBy()))), // the public edge: a new trace; the CDN's forwarding headers stay
		l.add(edge.RequestID()),
		l.add(edge.AccessLog(log)),
		l.add(edge.Recover(log)),
		l.add(edge.TLSFloor(tls.VersionTLS12)),
		CORS(cfg.CORSOrigins), // preflights answered before anything authenticates
		l.add(edge.StripInternal(edge.WithForwardedBy(cfg.Geofence.forwardedBy()))), // no client forges Cellgate-* headers; the CDN's X-Forwarded-For stays
	)
	if l.err != nil {
		return nil, l.err
	}
	return chain(api), nil
}

// BaseURLPath is where the cell router answers which zone, and so which
// web front, holds a company.
const BaseURLPath = "/rest/v1.0/company_base_url"

// CORS returns the rs/cors middleware of the API host for origins: the
// methods and headers the API uses, cookies allowed, X-Request-Id and
// expose exposed (the storage host adds ETag, which a browser upload reads).
// With no origins it does nothing: rs/cors would read an empty list as "*".
func CORS(origins []string, expose ...string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", zone.DefaultCompanyHeader, edge.RequestIDHeader},
		ExposedHeaders:   append([]string{edge.RequestIDHeader}, expose...),
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler
}

// logger is l, or slog.Default() naming service in every line when l is nil
// (a caller that passes a logger names the service itself, as the topology
// does).
func logger(l *slog.Logger, service string) *slog.Logger {
	if l == nil {
		return slog.Default().With("service", service)
	}
	return l
}
