// Package reference builds the services of cellgate's reference topology,
// so that each example main is flag parsing, one builder and a server:
//
//	NewCellRouter      the API host: company → zone, company base URL, CORS
//	NewGateway         one per zone: passports, pages, the strangler route
//	NewAuthentication  internal only: sessions become passports, JWKS
//	NewSessionStorage  the signed session API, revocation included
//	NewFileUpload      the storage host: signed upload PUTs streamed to storage
//
// Around them: the static zone directory of the examples (Directory),
// HMAC keys generated once and kept in files of mode 0600 (LoadKeys),
// a self-signed TLS configuration (SelfSignedTLS) and a server that shuts
// down gracefully (Serve).
//
// The systems outside cellgate (cells, file upload services, the object
// store) are stand-ins in package standin.
package reference
