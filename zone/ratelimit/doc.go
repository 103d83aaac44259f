// Package ratelimit limits requests per company and authenticated
// principal with token buckets (golang.org/x/time/rate), answering 429
// rate_limited with Retry-After and the IETF RateLimit headers. It is apart
// from package zone so that services without rate limits never link it.
//
// Put it after the stage that authenticates, so that a client that only
// names a company cannot spend the budget of the company's users:
//
//	limit, err := ratelimit.New(50, 100) // 50 requests/s, bursts of 100
//	handler := edge.Chain(zone.DetectCompany(), gw.Middleware, limit)(cell)
package ratelimit
