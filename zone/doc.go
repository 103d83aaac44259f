// Package zone ties every request to a company and the company to the zone
// (cell) that holds it, and forwards the request to that zone's gateway.
//
// It owns company detection (DetectCompany), the zone directory
// (Directory, with StaticDirectory, HTTPDirectory and the CachingDirectory
// in front of either), zone resolution (Resolve), the cell router (Router,
// which reaches each zone's gateway through an Endpoint) with canary
// gateways (WithCanary), and the company base URL endpoint
// (NewBaseURLHandler). Company-scoped policies live in subpackages, so a
// service links only what it uses: feature-flag targeting in
// zone/featureflag, per-company rate limits in zone/ratelimit, data
// residency and client location policies in zone/geofence (which reads
// Zone.Residency).
//
// Company ids are checked by ValidCompanyID (decimal ids) unless
// WithCompanyValidator brings another check, for UUID or slug tenants.
//
// Options are typed: each constructor has an option type of its own
// (DetectOption, ResolveOption, BaseURLOption, RouterOption, CacheOption,
// HTTPDirectoryOption, StaticDirectoryOption), so an option given to a
// constructor that does not read it (WithTTL to DetectCompany) does not
// compile. Zero means the default everywhere; a source or feature is
// turned off by its own option (WithoutQueryParam, WithoutStaleIfError).
// An invalid value is an error at construction; nothing panics.
//
// The smallest cell router:
//
//	dir, err := zone.NewCachingDirectory(directory) // a StaticDirectory or an HTTPDirectory
//	router, err := zone.NewRouter(map[string]zone.Endpoint{
//		"us01": {URL: "https://us01-gateway.internal"},
//		"us02": {Transport: edge.Binding(us02Gateway)},
//	})
//	detect, err := zone.DetectCompany()
//	resolve, err := zone.Resolve(dir)
//	baseURL, err := zone.NewBaseURLHandler(dir)
//	mux.Handle("GET /rest/v1.0/company_base_url", detect(baseURL))
//	mux.Handle("/", edge.Chain(detect, resolve)(router))
//	handler := edge.Chain(requestID, accessLog, recoverer, strip)(mux) // from edge.RequestID() and the like
//
// and, in the gateway of zone us02, which the router calls through a binding
// (passport.Gateway checks the company's zone against the directory itself):
//
//	gw, err := passport.NewGateway("us02", dir, authURL, edge.Binding(auth))
//	detect, err := zone.DetectCompany(zone.WithTrust(edge.TrustBinding), zone.WithOptional())
//	edge.Chain(detect, gw.Middleware)(cell)
//
// Company and zone join the request's access log line. Client-named
// internal headers (Cellgate-Company-Id, Cellgate-Zone) are believed only on
// a trusted hop, and the router replaces them before forwarding.
//
// The company the edge checks is the company the cell reads. DetectCompany
// refuses what a cell could read another way (400 path_ambiguous: dot
// segments, encoded slashes, empty segments, a second companies segment)
// and reads every spelling of the header and query names, refusing two that
// differ (400 company_conflict). A differential fuzz test holds it to the
// ways cells normalise paths (Go, nginx, servlet containers, WSGI,
// case-insensitive routers).
package zone
