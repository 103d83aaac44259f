package cache

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
)

// caller is one identity of the differential test.
type caller struct{ company, principal string }

func (c caller) String() string { return c.company + "/" + c.principal }

// TestDifferentialNoResponseCrossesIdentities fires identical requests of
// two principals of one company and one of another, in random
// interleavings, at a cell that answers each call with its caller's
// identity and a random mix of private, public, s-maxage, Set-Cookie and
// Vary. Whatever the middleware (Coalescer alone, Cache alone, both), no
// caller ever receives a response carrying another identity unless the
// cell marked it shareable, and never one of another company. Run it
// under -race.
func TestDifferentialNoResponseCrossesIdentities(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	callers := []caller{{"42", "session:a"}, {"42", "session:b"}, {"43", "session:c"}}
	langs := []string{"en", "fr"}
	for _, stack := range []string{"coalescer", "cache", "cache+coalescer"} {
		t.Run(stack, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(len(stack))))
			var rngMu sync.Mutex
			random := func(n int) int {
				rngMu.Lock()
				defer rngMu.Unlock()
				return rng.IntN(n)
			}
			gate := make(chan struct{})
			var gateMu sync.Mutex
			cell := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := caller{zone.CompanyFromContext(r.Context()), edge.PrincipalFromContext(r.Context())}
				gateMu.Lock()
				g := gate
				gateMu.Unlock()
				if random(2) == 0 {
					<-g // held until the round's requests have (maybe) piled up
				}
				var cc []string
				for _, d := range []string{"private", "public", "s-maxage=60", "max-age=60"} {
					if random(2) == 0 {
						cc = append(cc, d)
					}
				}
				h := w.Header()
				if len(cc) > 0 {
					h.Set("Cache-Control", strings.Join(cc, ", "))
				}
				if random(4) == 0 {
					h.Set("Set-Cookie", "s="+id.principal)
				}
				switch random(3) {
				case 0:
					h.Set("Vary", "Accept-Language")
				case 1:
					h.Set("Vary", "*")
				}
				h.Set("X-Identity", id.String())
				h.Set("X-Lang", r.Header.Get("Accept-Language"))
				for range random(3) {
					runtime.Gosched()
				}
				io.WriteString(w, id.String())
			})
			var h http.Handler = cell
			ev := &events{}
			if strings.Contains(stack, "coalescer") {
				co := newCoalescer(t, WithHitForMiss(time.Millisecond), WithObserver(ev))
				h = co.Middleware(h)
			}
			var ca *Cache
			if strings.HasPrefix(stack, "cache") {
				ca, _ = newCache(t, WithObserver(ev))
				h = ca.Middleware(h)
			}
			rounds := 300
			if testing.Short() {
				rounds = 50
			}
			checked := 0
			for i := range rounds {
				target := fmt.Sprintf("/rest/v1.0/projects/%d", random(4))
				if ca != nil && random(5) == 0 {
					ca.PurgeAll()
				}
				gateMu.Lock()
				gate = make(chan struct{}) // closed once this round's requests are under way
				round := gate
				gateMu.Unlock()
				n := 2 + random(8)
				var wg sync.WaitGroup
				for range n {
					who := callers[random(len(callers))]
					lang := langs[random(len(langs))]
					pre := random(4)
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range pre {
							runtime.Gosched()
						}
						r := httptest.NewRequest("GET", target, nil)
						r.Header.Set("Accept-Language", lang)
						r = r.WithContext(edge.ContextWithPrincipal(zone.ContextWithCompany(r.Context(), who.company), who.principal))
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, r)
						if msg := violation(who, lang, rec); msg != "" {
							t.Errorf("round %d: %s", i, msg)
						}
					}()
				}
				for range random(6) {
					runtime.Gosched()
				}
				close(round)
				wg.Wait()
				checked += n
			}
			t.Logf("%d responses checked: %d coalesced, %d released, %d cache hits", checked, ev.count(EventCoalesced), ev.count(EventReleased), ev.count(EventHit))
			// The test proves something only if responses were shared.
			if strings.Contains(stack, "coalescer") && ev.count(EventCoalesced) == 0 || ca != nil && ev.count(EventHit) == 0 {
				t.Error("nothing was shared: the interleavings did not exercise the rules")
			}
		})
	}
}

// violation says what is wrong with the response rec that who (asking in
// lang) received, or "".
func violation(who caller, lang string, rec *httptest.ResponseRecorder) string {
	h := rec.Header()
	id := h.Get("X-Identity")
	if id != rec.Body.String() {
		return fmt.Sprintf("%s: header says %q, body %q", who, id, rec.Body.String())
	}
	company, _, _ := strings.Cut(id, "/")
	if company != who.company {
		return fmt.Sprintf("%s received company %s's response %q", who, company, id)
	}
	if id == who.String() {
		return ""
	}
	d := parseCacheControl(h)
	_, cookie := h["Set-Cookie"]
	names, star := varyNames(h)
	if !d.shareable() || cookie || d.noStore || star {
		return fmt.Sprintf("%s received %s's response, not shareable (Cache-Control %q, Set-Cookie %v, Vary %q)", who, id, h.Get("Cache-Control"), cookie, h.Get("Vary"))
	}
	for _, n := range names {
		if n == "Accept-Language" && h.Get("X-Lang") != lang {
			return fmt.Sprintf("%s asked in %s and received a response for %s that varies on it", who, lang, h.Get("X-Lang"))
		}
	}
	return ""
}
