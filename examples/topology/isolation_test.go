package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIsolation replays, against the running topology, the attacks of
// issue 12 that showed a session acting outside its company and zone. Each
// case failed before the fix.
func TestIsolation(t *testing.T) {
	tp := start(t, false)
	api := tp.urls["api"]
	c1, _ := tp.login("1", "alice") // company 1, zone us01
	c3, _ := tp.login("3", "carol") // company 3, zone uk01

	// doRaw sends header names exactly as given, not canonicalised.
	doRaw := func(t *testing.T, c *http.Client, u string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = []string{v}
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}

	t.Run("hole 1: no company, no passport for a zone without business", func(t *testing.T) {
		for _, zoneName := range []string{"us02", "uk01"} {
			resp, body := do(t, c1, http.MethodGet, tp.urls[zoneName]+"/rest/v1.0/me", nil, nil)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", zoneName, body)
			assert.Equal(t, "zone_forbidden", problemCode(t, resp, body), zoneName)
		}
		// The declared company-less route works in the session's own zone,
		// with a passport that names no company.
		resp, body := do(t, c1, http.MethodGet, tp.urls["us01"]+"/rest/v1.0/me", nil, nil)
		e := decodeEcho(t, resp, body)
		assert.Equal(t, []string{"us01"}, e.Claims.Aud)
		assert.Empty(t, e.Claims.Company)
		// Any other route needs a company.
		resp, body = do(t, c1, http.MethodGet, tp.urls["us01"]+"/rest/v1.0/projects", nil, nil)
		assert.Equal(t, "company_missing", problemCode(t, resp, body))
		resp, body = do(t, c1, http.MethodGet, tp.urls["us02"]+"/rest/v1.0/companies/%2F2/projects", nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "path_ambiguous", problemCode(t, resp, body))
	})

	t.Run("hole 2: paths a cell could read as another company", func(t *testing.T) {
		for _, p := range []string{
			"/rest/v1.0/companies/1/%2e%2e/2/projects",
			"/rest/v1.0/companies/1/..%2F2/projects",
			"/rest/v1.0/companies/1%2F..%2F2/projects",
			"/rest/v1.0/companies/1/x/companies/2/projects",
		} {
			for _, base := range []string{api, tp.urls["us01"]} {
				resp, body := do(t, c1, http.MethodGet, base+p, nil, nil)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s%s: %s", base, p, body)
				assert.Equal(t, "path_ambiguous", problemCode(t, resp, body), p)
			}
		}
		resp, body := do(t, c1, http.MethodGet, api+"/rest/v1.0/Companies/2/projects?company_id=1", nil, nil)
		assert.Equal(t, "company_conflict", problemCode(t, resp, body))
	})

	t.Run("hole 3: a gateway checks the company's zone itself", func(t *testing.T) {
		resp, body := do(t, c3, http.MethodGet, tp.urls["us01"]+"/rest/v1.0/projects", map[string]string{"Procore-Company-Id": "3"}, nil)
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "%s", body)
		assert.Equal(t, "zone_misdirected", problemCode(t, resp, body))
		// Through the router, company 3 reaches uk01.
		resp, body = do(t, c3, http.MethodGet, api+"/rest/v1.0/projects", map[string]string{"Procore-Company-Id": "3"}, nil)
		assert.Equal(t, "uk01", decodeEcho(t, resp, body).Zone)
	})

	t.Run("hole 4: every spelling of the company header", func(t *testing.T) {
		for _, base := range []string{api, tp.urls["us01"]} {
			resp, body := doRaw(t, c1, base+"/rest/v1.0/projects", map[string]string{"Procore-Company-Id": "1", "Procore_Company_Id": "4"})
			assert.Equal(t, "company_conflict", problemCode(t, resp, body), base)
			// One non-canonical spelling is read, checked and forwarded
			// canonically: the cell reads the company the edge checked.
			resp, body = doRaw(t, c1, base+"/rest/v1.0/projects", map[string]string{"PROCORE_COMPANY_ID": "1"})
			e := decodeEcho(t, resp, body)
			assert.Equal(t, "1", e.Claims.Company, base)
		}
	})
}
