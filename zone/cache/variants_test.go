package cache

import (
	"net/http"
	"testing"

	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone/experiment"
)

// The header the cache keys on is the one the passport gateway forwards
// the signed variants in.
func TestVariantsHeaderIsThePassportGateways(t *testing.T) {
	for who, name := range map[string]string{"the passport gateway forwards": passport.HeaderVariants, "zone/experiment reads": experiment.Header} {
		if name != variantsHeader {
			t.Errorf("the cache keys on %q; %s %q", variantsHeader, who, name)
		}
	}
	if http.CanonicalHeaderKey(variantsHeader) != variantsHeader {
		t.Fatalf("%q is not canonical: the key would never see it", variantsHeader)
	}
}

// One variant's shareable response never reaches another variant.
func TestCacheNeverCrossesVariants(t *testing.T) {
	c, _ := newCache(t)
	cell := &countingCell{hdr: func(r *http.Request) (int, map[string]string) {
		return 200, map[string]string{"Cache-Control": "public, max-age=60", "X-Variant": r.Header.Get(variantsHeader)}
	}}
	h := c.Middleware(cell)
	req := func(v string) *http.Request {
		r := who("GET", "/p", "42", "session:a")
		r.Header.Set(variantsHeader, v)
		return r
	}
	get(h, req("layout=classic"))
	if got := get(h, req("layout=compact")).Header().Get("X-Variant"); got != "layout=compact" || cell.calls.Load() != 2 {
		t.Errorf("variant compact got variant %q's response (%d cell calls)", got, cell.calls.Load())
	}
	if got := get(h, req("layout=classic")).Header().Get("X-Variant"); got != "layout=classic" || cell.calls.Load() != 2 {
		t.Errorf("variant classic's second request: %q, %d cell calls, want a hit", got, cell.calls.Load())
	}
}
