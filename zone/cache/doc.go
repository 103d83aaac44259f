// Package cache short-circuits at the edge without crossing tenants:
// Coalescer makes identical concurrent GET and HEAD requests share one
// upstream request, and Cache answers from a small in-memory store of the
// responses the cell marked shareable. Each works alone; together, put
// Cache in front of the Coalescer.
//
// Where in a chain: after company detection and after the stage that
// authenticates (passport's gateway middleware), so that the company and
// the principal (edge.PrincipalFromContext) are known:
//
//	co, err := cache.NewCoalescer()
//	ca, err := cache.NewCache()
//	api := edge.Chain(zone.DetectCompany(), passports.Middleware, ca.Middleware, co.Middleware)(cell)
//
// # Coalescer
//
// Requests share when they agree on method, host, target (query
// parameters in any order), company and the headers the route declares
// (WithVaryOn), and carry no body, Range, condition or Upgrade. The first
// request's upstream call runs on a context of its own (its client leaving
// fails no one else; WithUpstreamWait bounds the wait for its header), and
// its response decides who may read it:
//
//   - Set-Cookie, no-store or Vary: * — nobody but the request that asked:
//     the others are released at once to ask on their own;
//   - public or s-maxage (and not private) — every principal of the
//     company, except a request whose headers differ in one the response
//     varies on (Vary);
//   - anything else (private, max-age alone, nothing) — only requests of
//     the same principal; those of other principals share a call of their
//     own, one per principal.
//
// Two companies never share: the company is in the key. A key whose
// response could not be shared is remembered for WithHitForMiss (10 s):
// its requests go upstream at once, or share only within their principal,
// so a burst does not queue behind a response it cannot use.
//
// Readers are streamed: each gets the status, header and body bytes as the
// upstream writes them, through a buffer of WithFollowerBuffer (1 MiB). A
// reader that far behind holds the upstream back; one that has held back
// readers ready for more for WithMaxLag (100 ms) in all, and a quarter of
// the response's time, is cut loose:
// it fetches on its own, skipping the bytes its client already has when a
// strong ETag (or Last-Modified and Content-Length) proves the new
// response the same, and aborting its response otherwise. When every
// reader is behind, the upstream waits, as for one client: memory never
// grows with the body. When the upstream fails before its first byte (a
// 502, a 504, its deadline, a panic), the first waiting request leads a
// second upstream call for the rest. WithMaxWaiters and WithMaxFlights cap
// the waiting; past them requests go upstream as usual. A request that
// read another's response carries "Cache-Status: cellgate; fwd=miss;
// collapsed" (RFC 9211).
//
// # Cache
//
// Cache stores a response only when RFC 9111 lets a shared cache store it
// and the cell marked it for every principal: GET, a cacheable status,
// public or s-maxage, an explicit lifetime (s-maxage, max-age or Expires),
// no private, no-store, no-cache, Set-Cookie or Vary: *, and a body of at
// most WithMaxBodySize (1 MiB): a larger body streams through and no more
// than the limit is ever held. It is bounded by WithMaxEntries and
// WithMaxBytes. It keys by method, host, target, company and the route's
// WithVaryOn headers, and matches a response's Vary; it serves
// stale-while-revalidate (revalidating once, in the background) and
// stale-if-error, and honours a request's no-cache and no-store. Every
// response through it carries a Cache-Status member (hit, fwd=uri-miss,
// fwd=vary-miss, fwd=stale, fwd=request, fwd=method, fwd=bypass; ttl,
// stored, collapsed, fwd-status). Purge drops a company's responses, or
// those the cell tagged (WithTagHeader, "Cache-Tag: a, b"), optionally of
// one company; zone/redisnotice carries a purge to every replica within
// its notice bound, and a replica cut off from the notices longer than
// that serves nothing from its cache (RequireNotices).
package cache
