package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A burst of identical requests of one session on the coalesced route
// costs the cell one answer; another session's requests in the same burst
// get their own answer (the cell did not mark it shareable), with their
// own passport's claims.
func TestBurstIsAnsweredOnce(t *testing.T) {
	// The cell takes long enough for the whole burst to pile up at the
	// gateway, on a loaded machine too.
	tp := start(t, false, func(c *config) {
		c.coalesce = []string{standin.SummaryPattern}
		c.summary = testwait.Scale(2 * time.Second)
	})
	alice, _ := tp.login("1", "alice")
	bob, _ := tp.login("1", "bob")
	const n = 20
	type answer struct {
		user, status string
		e            struct {
			Answer int64 `json:"answer"`
			Claims struct {
				Sub string `json:"sub"`
			} `json:"claims"`
		}
	}
	answers := make([]answer, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		c, user := alice, "alice"
		if i == n {
			c, user = bob, "bob"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, tp.urls["api"]+"/rest/v1.0/projects/7/summary", nil)
			req.Header.Set("Procore-Company-Id", "1")
			resp, err := c.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			answers[i].user, answers[i].status = user, resp.Header.Get("Cache-Status")
			assert.NoError(t, json.NewDecoder(resp.Body).Decode(&answers[i].e))
		}()
	}
	wg.Wait()
	numbers := map[int64]bool{}
	collapsed := 0
	for _, a := range answers[:n] {
		require.Equal(t, "alice", a.e.Claims.Sub)
		numbers[a.e.Answer] = true
		if strings.Contains(a.status, "collapsed") {
			collapsed++
		}
	}
	assert.Len(t, numbers, 1, "alice's burst: the cell answered %v", numbers)
	assert.Equal(t, n-1, collapsed, "every request but the one sent on says collapsed")
	assert.Equal(t, "bob", answers[n].e.Claims.Sub, "bob gets his own answer, not alice's")
	assert.False(t, numbers[answers[n].e.Answer], "bob's answer is another call of the cell")
}
