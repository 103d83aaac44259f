package edge

import (
	"net/http"
	"strings"
)

// ErrUpgradeRefused answers a request that asks to switch protocols where
// the edge does not allow it: an h2c or any other Upgrade, a CONNECT, or a
// WebSocket handshake off the routes declared with [WithWebSocket]. Once a
// proxy relays a 101, every byte that follows reaches the upstream
// unchecked, with no passport and whatever headers the client chose, so
// a protocol switch is never allowed by default.
var ErrUpgradeRefused = NewProblem(http.StatusBadRequest, "upgrade_refused", "This route does not switch protocols.")

// WithWebSocket declares the routes on which [NewProxy] and [ProxyTo] relay
// a WebSocket handshake: a GET over HTTP/1.1 without a body whose one
// Upgrade field names exactly the protocol websocket. By default (or nil)
// no route is declared. Every other request that asks to switch protocols
// ([IsUpgrade]) is answered 400 upgrade_refused on every route and never
// reaches the upstream: h2c (over an h2c connection a client sends
// requests the edge never sees), any other Upgrade token, several
// protocols at once, and CONNECT.
//
// The proxy cannot check who is asking: declare only routes that need a
// passport (never a public route such as a sign-in page), so that the
// handshake is checked like any other request before it reaches the proxy.
// passport.Gateway refuses an upgrade it would forward without a passport.
// A [Binding] cannot switch protocols: a declared route to a bound handler
// answers 502 upstream_unavailable to a handshake.
func WithWebSocket(routes func(*http.Request) bool) ProxyOption {
	return proxyOpt{"WithWebSocket", func(c *config) error {
		c.websocket = routes
		return nil
	}}
}

// IsUpgrade reports whether r asks to switch protocols: it carries an
// Upgrade field in any spelling (with or without Connection: upgrade, and
// even empty), or its method is CONNECT (an HTTP/2 extended CONNECT names
// its protocol in the :protocol pseudo-header). Middlewares that let some
// requests pass unchecked (a sign-in route) use it to let no protocol switch
// pass with them.
func IsUpgrade(r *http.Request) bool {
	if r.Method == http.MethodConnect {
		return true
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return true
	}
	_, n := HeaderValues(r.Header, "Upgrade")
	return n > 0
}

// webSocketHandshake reports whether r asks for exactly one protocol,
// websocket, by GET over HTTP/1.1 without a body (RFC 6455 §4.1): the only
// switch [WithWebSocket] lets through. Several fields, spellings or tokens
// are ambiguous, never picked from; a body would make the first bytes of
// the tunnel a matter of interpretation.
func webSocketHandshake(r *http.Request) bool {
	if r.Method != http.MethodGet || r.ProtoMajor != 1 || r.ProtoMinor < 1 || r.ContentLength != 0 {
		return false
	}
	// Only the canonical spelling: httputil relays no other as an upgrade.
	vs, n := HeaderValues(r.Header, "Upgrade")
	_, canonical := r.Header["Upgrade"]
	return n == 1 && canonical && len(vs) == 1 && strings.EqualFold(strings.Trim(vs[0], " \t"), "websocket")
}

// hopByHop are the Connection tokens the proxy honours: a connection
// option (close) or the name of a standard hop-by-hop field (RFC 9110
// §7.6.1, RFC 9112; HTTP2-Settings, RFC 9113 §3.2.1). None names a field
// the edge sets for the next hop; httputil removes all of them.
var hopByHop = []string{
	"close", "keep-alive", "upgrade", "te", "trailer", "transfer-encoding",
	"proxy-connection", "proxy-authenticate", "proxy-authorization", "http2-settings",
}

func isHopByHop(token string) bool {
	for _, h := range hopByHop {
		if strings.EqualFold(token, h) {
			return true
		}
	}
	return false
}

// scanHop reads, in one pass over h's names, whether h carries an Upgrade
// field in any spelling, and whether its Connection header needs
// [onlyHopByHop]: a token that names no standard hop-by-hop field, or a
// spelling other than the canonical one (httputil reads only "Connection";
// the next hop would read the other).
//
// httputil deletes from the outbound request every header the inbound
// Connection header names, and it does so after the middlewares in front
// of the proxy set theirs: "Connection: Authorization" deleted the
// passport, "Connection: Cellgate-Company-Id, Cellgate-Zone" the company
// and zone the gateway checked (the hop-by-hop header abuse Nathan Davison
// described in 2019). The proxy cannot tell the fields the client sent from
// those the edge set, and a list of the fields the edge owns would depend on
// the configuration of every middleware in front. So no other token is
// honoured: a field a client named crosses like any other it sends, which
// it could have sent without naming it. RFC 9110 §7.6.1 asks a proxy to
// drop such fields; dropping only what the client sent is impossible here,
// and forwarding it gives the client nothing it did not have, while
// honouring the token lets the client delete what the edge set.
func scanHop(h http.Header) (upgrade, rewrite bool) {
	for k, vs := range h {
		switch len(k) {
		case len("Upgrade"):
			upgrade = upgrade || SameHeaderName(k, "Upgrade")
		case len("Connection"):
			if !SameHeaderName(k, "Connection") {
				continue
			}
			if k != "Connection" {
				rewrite = true
				continue
			}
			for _, v := range vs {
				for t := range strings.SplitSeq(v, ",") {
					if t = strings.Trim(t, " \t"); t != "" && !isHopByHop(t) {
						rewrite = true
					}
				}
			}
		}
	}
	return upgrade, rewrite
}

// onlyHopByHop returns a copy of h whose Connection header, under its
// canonical name only, keeps only the tokens that name a standard
// hop-by-hop field (see [scanHop]).
func onlyHopByHop(h http.Header) http.Header {
	var kept []string
	for k, vs := range h {
		if !SameHeaderName(k, "Connection") {
			continue
		}
		for _, v := range vs {
			for t := range strings.SplitSeq(v, ",") {
				if t = strings.Trim(t, " \t"); isHopByHop(t) {
					kept = append(kept, t)
				}
			}
		}
	}
	h = h.Clone()
	DeleteHeader(h, "Connection")
	if len(kept) > 0 {
		h["Connection"] = []string{strings.Join(kept, ", ")}
	}
	return h
}
