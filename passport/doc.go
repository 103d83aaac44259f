// Package passport owns authentication at the edge: sessions and their
// stores, the session storage HTTP API and its client, signing keys and the
// JWKS, minting passports, the gateway middleware that swaps a session for a
// passport, the verifying middleware of cells, and revocation.
//
// A cell never sees a session token. The gateway of its zone turns the
// client's session (cookie or Authorization: Bearer) into a passport: a
// JWT signed with Ed25519 (or ES256) that lives five minutes, is bound to the
// zone by its aud and carries sub, company_id, zone, sid and jti. Passports
// are minted by the internal-only authentication service, which answers only
// calls through an edge.Binding or signed with hmacsig.
//
// The smallest wiring, in one process:
//
//	store, _ := passport.NewMemoryStore()
//	key, _ := passport.GenerateKey(passport.EdDSA)
//	issuer, _ := passport.NewIssuer("https://auth.example.com", key)
//	dir, _ := zone.NewCachingDirectory(directory) // company → zone
//	auth, _ := passport.NewAuthService(store, issuer, dir)
//
//	gw, _ := passport.NewGateway("us01", dir,
//		passport.Endpoint{URL: "http://auth.internal/passports", Transport: edge.Binding(auth)})
//	cancel := gw.Watch(store) // revocations drop cached passports at once
//	defer cancel()
//
//	v, _ := passport.NewVerifier(passport.Expected{Issuer: "https://auth.example.com", Audience: "us01"},
//		passport.WithJWKS("https://auth.example.com/.well-known/jwks.json")) // or WithInProcessIssuer(issuer) in one process
//	cell := v.Middleware(cellHandler) // passport.ClaimsFromContext(r.Context()) inside
//	front := edge.Chain(requestID, strip, bodyIdle, detect, // each built with its error: edge.RequestID(),
//		gw.Middleware)(proxyToCell) // edge.StripInternal(), edge.BodyIdle(), zone.DetectCompany()
//
// and a login handler signs a user in with one call, which stores the
// session under a fresh token and sets the session cookie:
//
//	s, err := passport.SignIn(r.Context(), w, store, passport.Session{User: user, Companies: companies})
//
// Tenant isolation: a gateway mints only for its own zone. It looks every
// company up in its directory (421 zone_misdirected for another zone's), a
// request without a company is refused unless its route is declared
// (WithCompanyless), and a company-less passport is minted only for a
// session with a company in the zone (403 zone_forbidden). The
// authentication service checks the same before it mints.
//
// Revocation is by session ID, by user and by company. A Store notifies its
// subscribers; a Gateway that watches it (Watch, or Subscribe with Revoked)
// drops what it cached at once. A Store whose notices cross processes
// (redisstore) also says whether its notice path is proven alive
// (NoticeHealth); a Gateway that watches it stops trusting its cache when
// it is not (cut off from Redis, a black-holed connection) for longer than
// the store's bound (one second by default), and asks the authentication
// service for every request, or refuses. Without notices (another process,
// no shared pub/sub) a revoked session is served from a gateway's cache for
// at most WithCacheTTL (one minute by default), and a passport already
// issued stays valid until its exp.
//
// Options are typed: each constructor takes its own option type
// (IssuerOption, GatewayOption, VerifierOption, ...), so an option it does
// not read (WithCacheTTL given to NewIssuer) does not compile. An option
// that several constructors read (WithClock) returns a type that is an
// option of each. An invalid value is an error at construction naming the
// constructor and the option; zero, "" or nil means the option's default,
// and a feature is turned off by an option of its own (WithoutCache).
//
// Key rotation: Stage the next key (it is published in the JWKS at once),
// wait at least the JWKS max-age, then Rotate. The retired key stays
// published until every passport it signed has expired, and a gateway drops
// its cache the moment the authentication service signs with another key.
//
// Bounds a Verifier keeps whatever the issuer or the network does: a
// passport must carry iat and live no longer than WithMaxLifetime (401
// passport_lifetime_too_long), a crit header is refused, and a JWKS that
// cannot be fetched is trusted for WithJWKSMaxStale (an hour) after the
// last fetch that succeeded began; then every passport is refused with 503
// passport_keys_stale until a fetch succeeds, so a key withdrawn from the
// JWKS dies within that bound even while the JWKS is unreachable.
package passport
