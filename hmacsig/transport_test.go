package hmacsig

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// Paths a Transport must sign so that they verify on the far side, whatever
// Go's URL handling does to them on the way.
var transportPaths = []string{
	"/v1/files/a%2Fb/caf%C3%A9?name=a+b&tag=c%2Bd&empty=",
	"/v1/it's(1)!*,$:@x/",
	"/v1/sessions/s%20p?q=%7e",
	"/",
}

func TestTransportVerifiesOverTheNetworkAndThroughABinding(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)), WithKeyID("svc"))
	v, _ := NewVerifier(Keys{ByID: map[string][]byte{"svc": testKey}}, WithClock(fixedClock(testNow)),
		WithMaxLifetime(5*time.Minute))
	handler := must.Build(Require(v))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, KeyIDFromContext(r.Context()))
	}))
	srv := httptest.NewServer(handler)
	defer srv.Close()

	for name, c := range map[string]struct {
		base   string
		client *http.Client
	}{
		"network": {srv.URL, &http.Client{Transport: &Transport{Signer: s}}},
		"binding": {"http://svc.internal", &http.Client{Transport: &Transport{Signer: s, Base: edge.Binding(handler)}}},
	} {
		for _, p := range transportPaths {
			for _, method := range []string{"GET", "PUT", "DELETE"} {
				req, err := http.NewRequest(method, c.base+p, strings.NewReader("body"))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := c.client.Do(req)
				if err != nil {
					t.Fatalf("%s %s %s: %v", name, method, p, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(body) != "svc" {
					t.Fatalf("%s %s %s: %d %s", name, method, p, resp.StatusCode, body)
				}
			}
		}
	}
}

// recorder is a base RoundTripper that keeps the request it was given.
type recorder struct{ got *http.Request }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = req
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestTransportDoesNotMutateTheRequest(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	base := &recorder{}
	rt := &Transport{Signer: s, Base: base}
	req, _ := http.NewRequest("", "http://svc.internal/v1/x?a=1", nil) // "" means GET
	req.Method = ""
	u, before := req.URL, *req.URL
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if req.URL != u || *req.URL != before || req.Method != "" {
		t.Fatalf("caller's request changed: %s %s", req.Method, req.URL)
	}
	if base.got == req || base.got.URL == req.URL {
		t.Fatal("the base got the caller's request or URL")
	}
	// Default lifetime: one minute.
	want := "a=1&expires_at=" + itoa(testNow+60) + "&sig="
	if q := base.got.URL.RawQuery; !strings.HasPrefix(q, want) {
		t.Fatalf("signed query %q, want prefix %q", q, want)
	}
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	if err := v.Verify(request("GET", base.got.URL.RequestURI())); err != nil {
		t.Fatal(err)
	}

	rt.Lifetime = 10 * time.Second
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if q := base.got.URL.RawQuery; !strings.Contains(q, "expires_at="+itoa(testNow+10)+"&") {
		t.Fatalf("Lifetime ignored: %q", q)
	}
}

type closeBody struct {
	io.Reader
	closed bool
}

func (c *closeBody) Close() error { c.closed = true; return nil }

func TestTransportErrorsCloseTheBody(t *testing.T) {
	s, _ := NewSigner(testKey)
	for name, c := range map[string]struct {
		rt  *Transport
		url string
	}{
		"no signer":      {&Transport{Base: &recorder{}}, "http://svc/x"},
		"unsignable URL": {&Transport{Signer: s, Base: &recorder{}}, "http://svc/a;b"},
	} {
		body := &closeBody{Reader: strings.NewReader("x")}
		req := &http.Request{Method: "PUT", URL: mustParse(t, c.url), Body: body, Header: http.Header{}}
		resp, err := c.rt.RoundTrip(req)
		if err == nil || resp != nil {
			t.Fatalf("%s: RoundTrip = %v, %v; want an error", name, resp, err)
		}
		if !body.closed {
			t.Fatalf("%s: body not closed", name)
		}
		if c.rt.Base.(*recorder).got != nil {
			t.Fatalf("%s: unsigned request sent", name)
		}
	}
}

func TestTransportThroughHTTPClientReportsSigningErrors(t *testing.T) {
	client := &http.Client{Transport: &Transport{Base: &recorder{}}}
	_, err := client.Get("http://svc/x")
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("Get = %v", err)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTransportRedirects(t *testing.T) {
	s, _ := NewSigner(testKey, WithClock(fixedClock(testNow)))
	v, _ := NewVerifier(Keys{Current: testKey}, WithClock(fixedClock(testNow)))
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a signed request reached another host: %s", r.URL.Path)
	}))
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/here", http.RedirectHandler("/there?x=1", http.StatusFound))
	mux.Handle("/away", http.RedirectHandler(other.URL+"/steal", http.StatusFound))
	mux.Handle("/there", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "there")
	}))
	srv := httptest.NewServer(must.Build(Require(v))(mux))
	defer srv.Close()
	client := &http.Client{Transport: &Transport{Signer: s}}

	resp, err := client.Get(srv.URL + "/here")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "there" {
		t.Fatalf("same-host redirect: %d %s", resp.StatusCode, body)
	}
	if _, err := client.Get(srv.URL + "/away"); err == nil || !strings.Contains(err.Error(), "redirect to another host") {
		t.Fatalf("cross-host redirect: %v", err)
	}
}
