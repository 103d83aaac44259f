package edge_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestTLSFloor(t *testing.T) {
	const hdr = "X-Tls-Version"
	tests := []struct {
		name    string
		tls     uint16 // 0: plain HTTP
		header  string
		trusted bool
		want    int
	}{
		{"TLS 1.0 refused", tls.VersionTLS10, "", false, 403},
		{"TLS 1.1 refused", tls.VersionTLS11, "", false, 403},
		{"TLS 1.2 ok", tls.VersionTLS12, "", false, 200},
		{"TLS 1.3 ok", tls.VersionTLS13, "", false, 200},
		{"r.TLS wins over a header", tls.VersionTLS11, "TLSv1.3", true, 403},
		{"plain HTTP, nothing to judge", 0, "", false, 200},
		{"trusted header TLSv1.1", 0, "TLSv1.1", true, 403},
		{"trusted header 1.0", 0, "1.0", true, 403},
		{"trusted header TLS 1.2", 0, "TLS 1.2", true, 200},
		{"trusted header tlsv1.3", 0, "tlsv1.3", true, 200},
		{"trusted header hex", 0, "0x0302", true, 403},
		{"trusted header garbage", 0, "SSLv3-ish", true, 200},
		{"untrusted header ignored", 0, "TLSv1.0", false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trust := edge.TrustNone
			if tt.trusted {
				trust = trustAll
			}
			h := must.Build(edge.TLSFloor(tls.VersionTLS12, edge.WithTLSHeader(hdr), edge.WithTrust(trust)))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.tls != 0 {
				r.TLS = &tls.ConnectionState{Version: tt.tls}
			}
			if tt.header != "" {
				r.Header.Set(hdr, tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == 403 {
				if p := decodeProblem(t, rec.Result()); p["code"] != "tls_version_too_old" ||
					!strings.Contains(p["detail"].(string), "TLS 1.2") {
					t.Errorf("problem = %v", p)
				}
			}
		})
	}
}

func TestTLSFloorNoHeaderConfigured(t *testing.T) {
	h := must.Build(edge.TLSFloor(tls.VersionTLS12, edge.WithTrust(trustAll)))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Tls-Version", "1.0")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Errorf("status = %d: a header was read without WithTLSHeader", rec.Code)
	}
}

func TestParseTLSVersion(t *testing.T) {
	tests := []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"TLSv1", tls.VersionTLS10, true},
		{"TLSv1.1", tls.VersionTLS11, true},
		{"TLSv1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
		{" 1.2 ", tls.VersionTLS12, true},
		{tls.VersionName(tls.VersionTLS13), tls.VersionTLS13, true},
		{"771", tls.VersionTLS12, true},
		{"0x0304", tls.VersionTLS13, true},
		{"", 0, false},
		{"SSLv3", 0, false},
		{"768", 0, false}, // SSL 3.0
		{"1.4.0", 0, false},
	}
	for _, tt := range tests {
		got, ok := edge.ParseTLSVersion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseTLSVersion(%q) = %#x, %v; want %#x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTLSConfig(t *testing.T) {
	for _, tt := range []struct{ min, want uint16 }{
		{tls.VersionTLS10, tls.VersionTLS12},
		{tls.VersionTLS11, tls.VersionTLS12},
		{tls.VersionTLS12, tls.VersionTLS12},
		{tls.VersionTLS13, tls.VersionTLS13},
	} {
		if got := edge.TLSConfig(tt.min).MinVersion; got != tt.want {
			t.Errorf("TLSConfig(%#x).MinVersion = %#x, want %#x", tt.min, got, tt.want)
		}
	}
}

func TestTLSHandshakeFloor(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(tls.VersionName(r.TLS.Version)))
	}))
	srv.TLS = edge.TLSConfig(tls.VersionTLS12)
	srv.Config.ErrorLog = discardLog() // the refused handshake is logged by net/http
	srv.StartTLS()
	defer srv.Close()

	client := func(min, max uint16) *http.Client {
		c := srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = min, max
		c.Transport = tr
		return c
	}
	if _, err := client(tls.VersionTLS10, tls.VersionTLS11).Get(srv.URL); err == nil {
		t.Error("a TLS 1.1 client completed the handshake")
	}
	resp, err := client(tls.VersionTLS12, tls.VersionTLS12).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp.Body); got != "TLS 1.2" {
		t.Errorf("TLS 1.2 client served over %q", got)
	}
}

// TestTLSFloorRealConnection is the control for TestTLSHandshakeFloor: a
// server that still accepts TLS 1.1 completes the handshake with the same
// client, and TLSFloor answers it with the problem instead.
func TestTLSFloorRealConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(must.Build(edge.TLSFloor(tls.VersionTLS12))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("served"))
	})))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10}
	srv.StartTLS()
	defer srv.Close()

	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	c.Transport = tr
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if p := decodeProblem(t, resp); resp.StatusCode != 403 || p["code"] != "tls_version_too_old" || resp.TLS.Version != tls.VersionTLS11 {
		t.Errorf("TLS %s client: %d %v", tls.VersionName(resp.TLS.Version), resp.StatusCode, p)
	}
}
