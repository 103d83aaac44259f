package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/zone/experiment"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// variantEcho is what the stand-in cell says of a request's variants.
type variantEcho struct {
	Zone   string `json:"zone"`
	Claims struct {
		Sub      string            `json:"sub"`
		SID      string            `json:"sid"`
		Variants map[string]string `json:"variants"`
	} `json:"claims"`
	Experiments string `json:"experiments"`
}

func (tp *topology) variants(t *testing.T, c *http.Client, base, company string, hdr ...string) variantEcho {
	t.Helper()
	h := map[string]string{"Procore-Company-Id": company}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	resp, body := do(t, c, http.MethodGet, base+"/rest/v1.0/me", h, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	var e variantEcho
	require.NoError(t, json.Unmarshal(body, &e))
	return e
}

// TestExperimentStickyAcrossSessionsAndGateways: the reference topology
// runs reference.WebLayout; a user gets the same variant in every session
// and through every gateway (the README's step), signed in the passport
// and forwarded in Cellgate-Experiments, and no client can choose it.
func TestExperimentStickyAcrossSessionsAndGateways(t *testing.T) {
	tp := start(t, false, func(c *config) { c.admin = "127.0.0.1:0" })
	key := reference.WebLayout.Key
	seen := map[string]bool{}
	for _, user := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		want := reference.WebLayout.Assign(user)
		seen[want] = true
		us01, sid1 := tp.login("1", user) // a session for company 1, in us01
		uk01, sid3 := tp.login("3", user) // another session, for company 3 in uk01
		require.NotEqual(t, sid1, sid3)
		for _, got := range []variantEcho{
			tp.variants(t, us01, tp.urls["us01"], "1"), // the web client route of us01
			tp.variants(t, uk01, tp.urls["uk01"], "3"), // of uk01
			tp.variants(t, us01, tp.urls["api"], "1"),  // through the router
		} {
			assert.Equal(t, user, got.Claims.Sub)
			assert.Equal(t, want, got.Claims.Variants[key], "%s in %s", user, got.Zone)
			assert.Equal(t, key+"="+want, got.Experiments, "the header the cell received")
		}
		// A forged header, in any spelling, changes nothing.
		other := map[string]string{"classic": "compact", "compact": "classic"}[want]
		for _, name := range []string{"Cellgate-Experiments", "Cellgate_Experiments", "cellgate-experiments"} {
			got := tp.variants(t, us01, tp.urls["us01"], "1", name, key+"="+other)
			assert.Equal(t, want, got.Claims.Variants[key])
			assert.Equal(t, key+"="+want, got.Experiments)
		}
	}
	assert.Len(t, seen, 2, "six users, both variants")

	// Exposures of the web client route reach the metrics, by variant only.
	resp, body := do(t, nil, http.MethodGet, tp.admin+"/metrics", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var lines []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "cellgate_experiment_exposures_total{") {
			lines = append(lines, l)
		}
	}
	require.NotEmpty(t, lines, "no exposure metric:\n%s", body)
	for _, l := range lines {
		assert.Contains(t, l, `cellgate_experiment="`+key+`"`)
		assert.Regexp(t, `cellgate_experiment_variant="(classic|compact)"`, l)
		assert.NotContains(t, l, "alice")
	}
	// The split itself checks out: every user's variant is what flagd's
	// algorithm gives, so over many users it follows the weights.
	counts := make([]uint64, 2)
	for i := range 10_000 {
		if reference.WebLayout.Assign(fmt.Sprintf("user-%d", i)) == "classic" {
			counts[0]++
		} else {
			counts[1]++
		}
	}
	res, err := experiment.CheckSampleRatio(reference.WebLayout, counts)
	require.NoError(t, err)
	assert.False(t, res.Mismatch, "%+v", res)
}
