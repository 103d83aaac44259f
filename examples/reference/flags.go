package reference

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
)

// MapFlag is a flag.Value of name=value pairs, comma-separated or
// repeated: -gateway us01=http://127.0.0.1:9081,us02=http://127.0.0.1:9082.
type MapFlag map[string]string

// String implements flag.Value.
func (m MapFlag) String() string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// Set implements flag.Value.
func (m MapFlag) Set(s string) error {
	for _, p := range ListFlag(s) {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%q is not name=value", p)
		}
		m[k] = v
	}
	return nil
}

// ListFlag splits a comma-separated list, dropping empty items.
func ListFlag(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Env returns the environment variable name, or def when it is not set,
// for flag defaults.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// Listen listens on addr for the host name serving h.
func Listen(name, addr string, h http.Handler) (Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return Listener{}, fmt.Errorf("reference: listen for %s: %w", name, err)
	}
	return Listener{Name: name, Listener: l, Handler: h}, nil
}
