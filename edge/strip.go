package edge

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ErrMethodOverride answers an untrusted request whose method override
// header (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) names
// another method than its own: a cell that honours it would run a method
// the edge never checked, and one that does not would run another than the
// client meant. It also answers a standard method spelled in another case
// ("get", "Post"): methods are case-sensitive, so the edge's routes
// (ServeMux patterns, a strangler's "GET /…") do not match it, while
// frameworks that upper-case the method (Symfony, Laravel) run it as the
// standard one. See [StripInternal].
var ErrMethodOverride = NewProblem(http.StatusBadRequest, "method_override",
	"Send the method itself: method override headers are not accepted.")

// Headers that cells (frameworks) read as another URL or method than the
// request line's, so a request the edge checked as POST /login would run
// as something else behind it. [StripInternal] governs them by default.
var (
	// rewriteHeaders name the URL to route on: IIS URL Rewrite sets them,
	// and Symfony, Zend Framework and ASP.NET applications behind it have
	// routed on them.
	rewriteHeaders = []string{"X-Original-Url", "X-Rewrite-Url"}
	// methodHeaders name the method to run: Rack::MethodOverride, Express
	// method-override, Symfony and Laravel, ASP.NET Core
	// UseHttpMethodOverride, Werkzeug and Jersey read X-HTTP-Method-Override;
	// OData and SharePoint X-HTTP-Method; others X-Method-Override.
	methodHeaders = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}
)

// StripInternal governs, on every untrusted request, the headers a client
// must never be able to set, and the headers a cell would read as another
// request than the one the edge checked:
//
//   - deleted: every header whose name starts with the internal prefix
//     ([DefaultInternalPrefix] unless [WithInternalPrefix] or
//     [WithoutInternalPrefix]), the names
//     given with [WithStripHeaders], Forwarded, X-Forwarded-* and
//     X-Real-Ip, and the URL rewrite headers X-Original-URL and
//     X-Rewrite-URL (the cell then routes on the request line the edge
//     checked, and no client has a reason to send them);
//   - refused with a 400 method_override ([ErrMethodOverride]): a method
//     override header (X-HTTP-Method-Override, X-HTTP-Method,
//     X-Method-Override) naming another method than the request's, because
//     dropping it would silently run another operation than the client
//     asked for. One naming the request's own method is deleted. The
//     _method query parameter (Laravel and Symfony read it from the query,
//     Spring's HiddenHttpMethodFilter and Jersey too) is refused the same
//     way; a form body's is the cell's to refuse, as the edge streams
//     bodies unread. A standard method spelled in another case than its
//     own ("get" for GET) is refused the same way.
//
// [WithKeepHeaders] lets the rewrite and method override headers a
// deployment needs through. Names match case-insensitively with '_', '.'
// and every other symbol read as '-' (see [SameHeaderName]), because
// proxies and frameworks that fold them into one name have turned such
// variants into forgeries. Trusted requests ([WithTrust]) pass untouched;
// from the hops [WithForwardedBy] names, X-Forwarded-For is kept.
//
// An invalid option is an error.
func StripInternal(opts ...StripInternalOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("StripInternal", opts, StripInternalOption.stripInternalOption)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	if c.prefix != "" {
		prefixes = append(prefixes, c.prefix)
	}
	prefixes = append(prefixes, "X-Forwarded-")
	names := append([]string{"Forwarded", "X-Real-Ip"}, c.strip...)
	kept := func(name string) bool {
		return slices.ContainsFunc(c.keep, func(k string) bool { return SameHeaderName(k, name) })
	}
	for _, n := range rewriteHeaders {
		if !kept(n) {
			names = append(names, n)
		}
	}
	var methods []string
	for _, n := range methodHeaders {
		if !kept(n) {
			methods = append(methods, n)
		}
	}
	internal := func(name string) bool {
		for _, p := range prefixes {
			if HasHeaderNamePrefix(name, p) {
				return true
			}
		}
		for _, n := range names {
			if SameHeaderName(name, n) {
				return true
			}
		}
		return false
	}
	override := func(name string) bool {
		for _, n := range methods {
			if SameHeaderName(name, n) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !c.trust(r) {
				keepForwarded := c.forwarded != nil && c.forwarded(r)
				if miscased(r.Method) {
					WriteProblem(w, r, ErrMethodOverride)
					return
				}
				for name, vs := range r.Header {
					switch {
					case keepForwarded && name == "X-Forwarded-For":
						// The named hop's, in the one spelling ClientAddr reads.
					case internal(name):
						delete(r.Header, name)
					case override(name):
						for _, v := range vs {
							if !strings.EqualFold(strings.TrimSpace(v), r.Method) {
								WriteProblem(w, r, ErrMethodOverride)
								return
							}
						}
						delete(r.Header, name)
					}
				}
				if r.URL.RawQuery != "" && overridesMethod(r.URL.RawQuery, r.Method) {
					WriteProblem(w, r, ErrMethodOverride)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// WithForwardedBy names the hops in front of the edge (a CDN or a load
// balancer, by address: [TrustNetworks]) whose X-Forwarded-For
// [StripInternal] keeps, so that what reads the client's address after it
// ([ClientAddr] with the same trust: a location policy, a rate limit)
// reads the address that hop saw rather than the hop's own. Only the field
// in its canonical spelling is kept; every other header of such a request
// is governed as for any client (the hop passes clients' headers on), and
// a request these hops did not send loses every X-Forwarded-For. By default
// (or nil) no hop is named.
func WithForwardedBy(t Trust) StripInternalOption {
	return stripInternalOpt{"WithForwardedBy", func(c *config) error {
		c.forwarded = t
		return nil
	}}
}

// WithKeepHeaders lets [StripInternal] pass, from untrusted requests, the
// URL rewrite or method override headers named (X-Original-URL,
// X-Rewrite-URL, X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override),
// for a deployment whose cells need one and check it themselves. By default
// none is kept; a name outside that list (an internal header, a forwarding
// header: trust its hop with [WithTrust] instead) is an error.
func WithKeepHeaders(names ...string) StripInternalOption {
	return stripInternalOpt{"WithKeepHeaders", func(c *config) error {
		for _, n := range names {
			if !slices.ContainsFunc(append(rewriteHeaders[:len(rewriteHeaders):len(rewriteHeaders)], methodHeaders...),
				func(k string) bool { return SameHeaderName(k, n) }) {
				return fmt.Errorf("%q is no URL rewrite or method override header", n)
			}
		}
		c.keep = append(c.keep, names...)
		return nil
	}}
}

// standardMethods are the methods of RFC 9110 and RFC 5789 (PATCH).
var standardMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace}

// miscased reports whether method is a standard method in another case
// than its own: "get", "Post".
func miscased(method string) bool {
	for _, m := range standardMethods {
		if method != m && strings.EqualFold(method, m) {
			return true
		}
	}
	return false
}

// overridesMethod reports whether the raw query holds a _method parameter
// naming another method than method. Names are decoded and compared as
// header names are (so PHP's ".method" counts) and pairs split on '&' and
// ';' (older Rack and servlet parsers split on both); a value that does not
// decode counts as another method.
func overridesMethod(rawQuery, method string) bool {
	for rawQuery != "" {
		var pair string
		if i := strings.IndexAny(rawQuery, "&;"); i >= 0 {
			pair, rawQuery = rawQuery[:i], rawQuery[i+1:]
		} else {
			pair, rawQuery = rawQuery, ""
		}
		k, v, _ := strings.Cut(pair, "=")
		if len(k) < len("_method") {
			continue
		}
		if d, err := url.QueryUnescape(k); err == nil {
			k = d
		}
		k = strings.TrimLeft(k, " ")
		if i := strings.IndexByte(k, '['); i >= 0 {
			k = k[:i] // _method[]=DELETE, as PHP and Rails read arrays
		}
		if len(k) != len("_method") || !SameHeaderName(strings.ReplaceAll(k, " ", "_"), "_method") {
			continue
		}
		if v, err := url.QueryUnescape(v); err != nil || !strings.EqualFold(strings.TrimSpace(v), method) {
			return true
		}
	}
	return false
}
