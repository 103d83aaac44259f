package zone

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStaticDirectory(t *testing.T) {
	d, err := ReadStaticDirectory(strings.NewReader(`{"1": {"zone":"us01","web_base_url":"https://us01.procore.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if z, err := d.Lookup(context.Background(), "1"); err != nil || z != us01 {
		t.Fatalf("Lookup(1) = %v, %v", z, err)
	}
	if _, err := d.Lookup(context.Background(), "2"); !errors.Is(err, ErrUnknownCompany) {
		t.Fatalf("Lookup(2) err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "zones.json")
	os.WriteFile(path, []byte(`{"2": {"zone":"us02","web_base_url":"https://us02.procore.com"}}`), 0o600)
	if d, err = LoadStaticDirectory(path); err != nil {
		t.Fatal(err)
	}
	if z, _ := d.Lookup(context.Background(), "2"); z != us02 {
		t.Fatalf("from file: %v", z)
	}
}

func TestStaticDirectoryRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": `{"1": {"zone":"us01","web_base_url":"https://a.example","region":"x"}}`,
		"bad company":   `{"01": {"zone":"us01","web_base_url":"https://a.example"}}`,
		"bad zone":      `{"1": {"zone":"US01","web_base_url":"https://a.example"}}`,
		"no zone":       `{"1": {"web_base_url":"https://a.example"}}`,
		"relative url":  `{"1": {"zone":"us01","web_base_url":"/a"}}`,
		"js url":        `{"1": {"zone":"us01","web_base_url":"javascript:alert(1)"}}`,
		"userinfo url":  `{"1": {"zone":"us01","web_base_url":"https://u:p@a.example"}}`,
		"trailing data": `{} {}`,
		"not json":      `zones`,
		"null":          `null`,
		"twice":         `{"1": {"zone":"us01","web_base_url":"https://a.example"}, "1": {"zone":"us02","web_base_url":"https://b.example"}}`,
		"field twice":   `{"1": {"zone":"us01","web_base_url":"https://a.example","zone":"us02"}}`,
		"bad utf-8":     "{\"1\": {\"zone\":\"us01\",\"web_base_url\":\"https://a.example/\xff\"}}",
	} {
		if _, err := ReadStaticDirectory(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadStaticDirectory(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestHTTPDirectory(t *testing.T) {
	var gotPath, gotRequestID string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotRequestID = r.URL.EscapedPath(), r.Header.Get("X-Request-Id")
		switch strings.TrimPrefix(r.URL.Path, "/v1/companies/") {
		case "1":
			io.WriteString(w, `{"zone":"us01","web_base_url":"https://us01.procore.com"}`)
		case "2":
			http.NotFound(w, r)
		case "3":
			w.WriteHeader(http.StatusInternalServerError)
		case "4":
			io.WriteString(w, `{"zone":"us01","web_base_url":"https://us01.procore.com","extra":1}`)
		case "5":
			io.WriteString(w, `{"web_base_url":"https://us01.procore.com"}`)
		case "6":
			io.WriteString(w, `{"zone":"us01","web_base_url":"https://us01.procore.com","pad":"`+strings.Repeat("x", 1<<20)+`"}`)
		case "7":
			io.WriteString(w, `{"zone":"../../admin","web_base_url":"https://us01.procore.com"}`)
		case "8":
			http.Redirect(w, r, "/v1/companies/1", http.StatusFound)
		case "9":
			io.WriteString(w, `{"zone":"us01","web_base_url":"https://us01.procore.com"}{"zone":"us02"}`)
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	defer srv.Close()
	d, err := NewHTTPDirectory(srv.URL+"/v1/", WithTransport(srv.Client().Transport))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if z, err := d.Lookup(ctx, "1"); err != nil || z != us01 {
		t.Fatalf("Lookup(1) = %v, %v", z, err)
	}
	if _, err := d.Lookup(ctx, "2"); !errors.Is(err, ErrUnknownCompany) {
		t.Fatalf("404: %v", err)
	}
	for _, id := range []string{"3", "4", "5", "6", "7", "8", "9"} {
		if z, err := d.Lookup(ctx, id); err == nil || errors.Is(err, ErrUnknownCompany) {
			t.Errorf("company %s: %v, %v; want a failure", id, z, err)
		}
	}
	d.Lookup(ctx, "a/../b?c")
	if gotPath != "/v1/companies/a%2F..%2Fb%3Fc" {
		t.Errorf("company not path-escaped: %q", gotPath)
	}
	d.Lookup(edgeRequestID(ctx, "rid-1"), "1")
	if gotRequestID != "rid-1" {
		t.Errorf("request ID not propagated: %q", gotRequestID)
	}
}

func TestNewHTTPDirectoryRejects(t *testing.T) {
	for _, u := range []string{"", "/dir", "ftp://dir", "http://dir?x=1", "http://%zz"} {
		if _, err := NewHTTPDirectory(u); err == nil {
			t.Errorf("%q: no error", u)
		}
	}
	if _, err := NewHTTPDirectory("http://dir", WithMaxResponseBytes(-1)); err == nil {
		t.Error("negative response limit: no error")
	}
}

// Tenants named by UUIDs or slugs bring their own check; ids no hop can
// carry unchanged are refused whatever the check says.
func TestStaticDirectoryValidator(t *testing.T) {
	slug := WithCompanyValidator(func(id string) bool { return strings.HasPrefix(id, "acme-") || id == "a/b" || id == ".." })
	doc := `{"acme-east": {"zone":"us01","web_base_url":"https://us01.procore.com"}}`
	if _, err := ReadStaticDirectory(strings.NewReader(doc)); err == nil {
		t.Fatal("default check accepted a slug")
	}
	d, err := ReadStaticDirectory(strings.NewReader(doc), slug)
	if err != nil {
		t.Fatal(err)
	}
	if z, err := d.Lookup(context.Background(), "acme-east"); err != nil || z != us01 {
		t.Fatalf("Lookup(acme-east) = %v, %v", z, err)
	}
	for _, id := range []string{"a/b", "..", "1001"} {
		if _, err := NewStaticDirectory(map[string]Zone{id: us01}, slug); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
}
