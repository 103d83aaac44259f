package upload

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// A presigned URL comes from another service (FUS): where it points and
// what it asks the PUT to carry are checked here, so a FUS that is wrong
// or compromised cannot turn the storage host into a proxy to the cloud
// metadata service, a cluster API or a header-carrying request to anyone.

// storageHost is one entry of WithStorageHosts.
type storageHost struct {
	scheme   string     // "https" or "http"
	name     string     // lower-case DNS name; for a wildcard, the suffix after "*."
	ip       netip.Addr // valid for an IP literal
	wildcard bool
	port     string // "" for the scheme's default port
}

// storageHosts is the parsed allow-list of NewClient.
type storageHosts []storageHost

// parseStorageHosts parses WithStorageHosts entries; see its doc.
func parseStorageHosts(entries []string) (storageHosts, error) {
	if len(entries) == 0 {
		return nil, errors.New("no storage host allowed: name the hosts presigned URLs may point to with WithStorageHosts " +
			`(such as "*.s3.amazonaws.com" or "http://minio.internal:9000"); without them every upload would be refused`)
	}
	l := make(storageHosts, 0, len(entries))
	for _, e := range entries {
		h, err := parseStorageHost(e)
		if err != nil {
			return nil, fmt.Errorf("storage host %q: %w", e, err)
		}
		l = append(l, h)
	}
	return l, nil
}

func parseStorageHost(entry string) (storageHost, error) {
	h := storageHost{scheme: "https"}
	rest := entry
	if scheme, after, ok := strings.Cut(entry, "://"); ok {
		if scheme != "http" && scheme != "https" {
			return h, errors.New(`the scheme must be "http://" or "https://" (https when none is written)`)
		}
		h.scheme, rest = scheme, after
	}
	if strings.ContainsAny(rest, "/?#@\\%") || rest == "" {
		return h, errors.New("want host[:port] only: no path, query, user information or escapes")
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return h, err
	}
	if h.port, err = normalPort(h.scheme, port); err != nil {
		return h, err
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return h, errors.New("an IPv6 zone is not allowed")
		}
		if ip.Is6() && !strings.HasPrefix(rest, "[") {
			return h, errors.New("write an IPv6 literal in brackets")
		}
		h.ip = ip
		return h, nil
	}
	if suffix, ok := strings.CutPrefix(host, "*."); ok {
		if h.scheme == "http" {
			return h, errors.New("a wildcard is allowed for https only: list plain-http hosts one by one")
		}
		if !validDNSName(suffix) || !strings.Contains(suffix, ".") {
			return h, errors.New(`a wildcard is "*." followed by a domain of at least two labels`)
		}
		h.wildcard, h.name = true, strings.ToLower(suffix)
		return h, nil
	}
	if !validDNSName(host) {
		return h, errors.New("not a host name (letters, digits and '-' in dot-separated labels, no trailing dot) nor an IP literal")
	}
	h.name = strings.ToLower(host)
	return h, nil
}

// splitHostPort splits "host", "host:port", "[v6]" and "[v6]:port".
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New("unclosed '['")
		}
		host, after := s[1:end], s[end+1:]
		if after == "" {
			return host, "", nil
		}
		if after[0] != ':' || after == ":" {
			return "", "", errors.New("want a port after ']:'")
		}
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", "", errors.New("brackets hold an IPv6 literal only")
		}
		return host, after[1:], nil
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return "", "", errors.New("empty port")
		}
		return host, port, nil
	}
	return "", "", errors.New("write an IPv6 literal in brackets")
}

// normalPort checks a port and returns "" for the scheme's default, so
// "host" and "host:443" are one https target.
func normalPort(scheme, port string) (string, error) {
	if port == "" {
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '0' || strings.IndexFunc(port, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "", fmt.Errorf("port %q is not a port number", port)
	}
	if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
		return "", nil
	}
	return port, nil
}

// validDNSName reports whether s is a host name in letters, digits and '-',
// in labels of 1–63 characters, without a trailing dot, whose last label
// starts with a letter: "2130706433", "127.1" and "0x7f.1", which resolvers
// may read as IPv4 addresses, are not names.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1][0]
	return 'a' <= last && last <= 'z' || 'A' <= last && last <= 'Z'
}

// allows reports whether u may be a storage target: an absolute http(s)
// URL without user information whose scheme, host and port an entry names.
// An IP literal matches only an entry naming that address; a wildcard
// matches names under its suffix, never an IP literal.
func (l storageHosts) allows(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.HasSuffix(u.Host, ":") {
		return false // an empty port: one more spelling of the default
	}
	host := u.Hostname()
	port, err := normalPort(u.Scheme, u.Port())
	if err != nil {
		return false
	}
	ip, ipErr := netip.ParseAddr(host)
	isIP := ipErr == nil
	if isIP && ip.Zone() != "" || !isIP && !validDNSName(host) {
		return false
	}
	name := strings.ToLower(host)
	for _, e := range l {
		if e.scheme != u.Scheme || e.port != port {
			continue
		}
		switch {
		case isIP:
			if e.ip.IsValid() && e.ip == ip {
				return true
			}
		case e.wildcard:
			if strings.HasSuffix(name, "."+e.name) {
				return true
			}
		case e.name != "" && e.name == name:
			return true
		}
	}
	return false
}

// Headers a FUS answer may name.
var (
	// defaultStorageHeaders are what S3, Azure and GCS presigns cover.
	defaultStorageHeaders = []string{
		"Content-Type", "Content-MD5", "Content-Encoding", "Content-Disposition",
		"Content-Language", "Cache-Control", "x-amz-*", "x-ms-*", "x-goog-*",
	}
	// excludedStorageHeaders fall under a default prefix but are refused
	// unless WithStorageHeaders names them: a session token belongs in the
	// presigned query (X-Amz-Security-Token), where presigns put it, not in
	// a header handed to the edge; a copy source turns the PUT into a
	// server-side copy of some other object, which the upload's body never
	// was.
	excludedStorageHeaders = []string{"X-Amz-Security-Token", "x-amz-copy-source*", "x-ms-copy-source*", "x-goog-copy-source*"}
	// forbiddenStorageHeaders are never sent, whatever the configuration:
	// credentials for someone else, and headers that frame the request or
	// belong to one hop. Compared as edge.SameHeaderName compares.
	forbiddenStorageHeaders = []string{
		"Authorization", "Cookie", "Cookie2", "Set-Cookie", "Proxy-*", "Host", "Connection",
		"Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Content-Length", "Expect",
	}
)

// headerPatterns is a list of header names and "prefix*" patterns.
type headerPatterns []string

// match reports whether name is one of the names or starts with one of the
// prefixes, ASCII case folded. fold also reads '_', '.' and every other
// symbol as '-' (edge.SameHeaderName).
func (ps headerPatterns) match(name string, fold bool) bool {
	for _, p := range ps {
		prefix, isPrefix := strings.CutSuffix(p, "*")
		switch {
		case fold && isPrefix:
			if edge.HasHeaderNamePrefix(name, prefix) {
				return true
			}
		case fold:
			if edge.SameHeaderName(name, p) {
				return true
			}
		case isPrefix:
			if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
				return true
			}
		default:
			if strings.EqualFold(name, p) {
				return true
			}
		}
	}
	return false
}

// forbiddenHeader reports whether name is never sent to storage, in any
// spelling.
func forbiddenHeader(name string) bool {
	return headerPatterns(forbiddenStorageHeaders).match(name, true)
}

// headerPolicy decides which FUS headers the PUT may carry.
type headerPolicy struct{ extra headerPatterns }

// parseStorageHeaders validates WithStorageHeaders entries.
func parseStorageHeaders(entries []string) (headerPolicy, error) {
	for _, e := range entries {
		name, _ := strings.CutSuffix(e, "*")
		if name == "" || !edge.ValidHeaderName(name) || strings.Contains(name, "*") {
			return headerPolicy{}, fmt.Errorf("storage header %q is neither a header name nor a \"prefix*\" pattern", e)
		}
		if forbiddenHeader(name) {
			return headerPolicy{}, fmt.Errorf("storage header %q is never sent to storage (credentials, framing and hop-by-hop headers)", e)
		}
	}
	return headerPolicy{extra: entries}, nil
}

// allows reports whether FUS may name header name. Allowed names match
// case-insensitively with '-' as written: "Content_Type" is not
// Content-Type. Forbidden names are refused in every spelling.
func (p headerPolicy) allows(name string) bool {
	switch {
	case forbiddenHeader(name):
		return false
	case p.extra.match(name, false):
		return true
	case headerPatterns(excludedStorageHeaders).match(name, false):
		return false
	}
	return headerPatterns(defaultStorageHeaders).match(name, false)
}
