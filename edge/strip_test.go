package edge_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestStripInternal(t *testing.T) {
	inbound := http.Header{
		"Cellgate-Company-Id": {"1"},
		"cellgate-zone":       {"us01"}, // not canonical, as a raw map might hold it
		"Cellgate_Zone":       {"us02"},
		"CELLGATE_COMPANY_ID": {"2"},
		"Cellgate-":           {"bare prefix"},
		"X-Forwarded-For":     {"1.2.3.4"},
		"X-Forwarded-Host":    {"evil.example"},
		"X_Forwarded_Proto":   {"http"},
		"Forwarded":           {"for=1.2.3.4"},
		"X-Real-Ip":           {"1.2.3.4"},
		"X-Passport":          {"forged"},
		"x_passport":          {"forged"},
		"Acme-Tenant":         {"9"},
		"Acme_tenant":         {"9"},
		"Authorization":       {"Bearer client"},
		"Accept":              {"*/*"},
		"Procore-Company-Id":  {"42"},
		"Cellgatezone":        {"no dash: not the prefix"},
		"X-Cellgate-Zone":     {"prefix not at start"},
	}
	always := []string{"Accept", "Authorization", "Cellgatezone", "Procore-Company-Id", "X-Cellgate-Zone"}
	tests := []struct {
		name string
		opts []edge.Option
		want []string // headers left
	}{
		{
			name: "defaults",
			want: append([]string{"Acme-Tenant", "Acme_tenant", "X-Passport", "x_passport"}, always...),
		},
		{
			name: "extra names",
			opts: []edge.Option{edge.WithStripHeaders("x-passport")},
			want: append([]string{"Acme-Tenant", "Acme_tenant"}, always...),
		},
		{
			name: "custom prefix",
			opts: []edge.Option{edge.WithInternalPrefix("acme-"), edge.WithStripHeaders("X_PASSPORT")},
			want: append([]string{
				"CELLGATE_COMPANY_ID", "Cellgate-", "Cellgate-Company-Id", "Cellgate_Zone", "cellgate-zone",
			}, always...),
		},
		{
			name: "empty prefix strips no prefix, not everything",
			opts: []edge.Option{edge.WithInternalPrefix("")},
			want: append([]string{
				"Acme-Tenant", "Acme_tenant", "X-Passport", "x_passport",
				"CELLGATE_COMPANY_ID", "Cellgate-", "Cellgate-Company-Id", "Cellgate_Zone", "cellgate-zone",
			}, always...),
		},
		{
			name: "trusted untouched",
			opts: []edge.Option{edge.WithTrust(trustAll), edge.WithStripHeaders("X-Passport")},
			want: keys(inbound),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			h := edge.StripInternal(tt.opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = keys(r.Header)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header = inbound.Clone()
			h.ServeHTTP(httptest.NewRecorder(), r)
			sort.Strings(tt.want)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("left\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestStripInternalOverTheWire(t *testing.T) {
	// What a client sends on the wire, after net/http parses it.
	var got http.Header
	srv := httptest.NewServer(edge.StripInternal()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header["cellgate_company_id"] = []string{"7"}
	req.Header["CELLGATE-ZONE"] = []string{"us01"}
	req.Header["Procore-Company-Id"] = []string{"7"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for name := range got {
		if n := normalize(name); n == "CELLGATE-COMPANY-ID" || n == "CELLGATE-ZONE" {
			t.Errorf("%s survived: %v", name, got)
		}
	}
	if got.Get("Procore-Company-Id") != "7" {
		t.Error("the public company header was stripped")
	}
}

func keys(h http.Header) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func normalize(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '_':
			b[i] = '-'
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
