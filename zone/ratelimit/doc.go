// Package ratelimit limits requests per company with token buckets
// (golang.org/x/time/rate), answering 429 rate_limited with Retry-After and
// the IETF RateLimit headers. It is apart from package zone so that
// services without rate limits never link it.
//
// A company's budget is the company's, shared by all its authenticated
// principals (WithPrincipalLimit gives each a smaller share inside it), so
// opening sessions buys no budget. Anonymous clients are counted by their
// address, IPv4 by the address and IPv6 by its /64 (WithIPv4Prefix,
// WithIPv6Prefix), whatever company they name; the address is the
// connection's, or the one a trusted hop saw (WithTrust), never one a
// client wrote in a header.
//
// Put it after the stage that authenticates, so that a client that only
// names a company cannot spend the budget of the company's users:
//
//	limit, err := ratelimit.New(50, 100) // 50 requests/s, bursts of 100, per company
//	handler := edge.Chain(detect, gw.Middleware, limit)(cell) // detect from zone.DetectCompany()
package ratelimit
