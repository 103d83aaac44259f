// Package zone ties every request to a company and the company to the zone
// (cell) that holds it, and forwards the request to that zone's gateway.
//
// It owns company detection (DetectCompany), the zone directory
// (Directory, with StaticDirectory, HTTPDirectory and the CachingDirectory
// in front of either), zone resolution (Resolve), the cell router (Router,
// which reaches each zone's gateway through an Endpoint) with canary
// gateways (WithCanary), and the company base URL endpoint
// (BaseURLHandler). Company-scoped policies live in subpackages, so a
// service links only what it uses: feature-flag targeting in
// zone/featureflag, per-company rate limits in zone/ratelimit, data
// residency and client location policies in zone/geofence (which reads
// Zone.Residency).
//
// Company ids are checked by ValidCompanyID (decimal ids) unless
// WithValidator brings another check, for UUID or slug tenants.
//
// Options are checked: each constructor's doc lists the options it reads,
// and any other option, or an invalid value, is an error at construction
// (a panic for the middleware constructors, which return no error).
//
// The smallest cell router:
//
//	dir, err := zone.NewCachingDirectory(directory) // a StaticDirectory or an HTTPDirectory
//	router, err := zone.NewRouter(map[string]zone.Endpoint{
//		"us01": {URL: "https://us01-gateway.internal"},
//		"us02": {Transport: edge.Binding(us02Gateway)},
//	})
//	mux.Handle("GET /rest/v1.0/company_base_url", zone.DetectCompany()(zone.BaseURLHandler(dir)))
//	mux.Handle("/", edge.Chain(zone.DetectCompany(), zone.Resolve(dir))(router))
//	handler := edge.Chain(edge.RequestID(), edge.AccessLog(), edge.Recover(), edge.StripInternal())(mux)
//
// and, in the gateway of zone us02, which the router calls through a binding
// (passport.Gateway checks the company's zone against the directory itself):
//
//	gw, err := passport.NewGateway("us02", dir, authURL, edge.Binding(auth))
//	edge.Chain(zone.DetectCompany(zone.WithTrust(edge.TrustBinding), zone.WithOptional()), gw.Middleware)(cell)
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
