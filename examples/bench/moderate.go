package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// maxInFlight bounds the open-loop client's outstanding requests; a
	// request due while the bound is reached is an error, not a skip.
	maxInFlight = 256
	// moderateWarm is each front's warm-up at the moderate rate, which also
	// opens the client's connections.
	moderateWarm = time.Second
)

// moderateRow is one front's latency at moderate load, in µs: medians of
// the rounds, and the medians of the per-round differences to direct.
type moderateRow struct {
	name               string
	p50, p99, p999     float64
	addedP50, addedP99 float64
	p99s, addedP99s    []float64 // per round
	cpu                float64   // median CPU µs per request of the front's processes
	errors             int64
}

// openLoopResult is one open-loop run: the latency of every request that
// was answered 200 with its whole body, and how many were not.
type openLoopResult struct {
	latencies []time.Duration
	errors    int64
}

// moderate measures every front's latency at a fixed rate well under its
// capacity, direct first and the fronts alternated in rounds as the wrk
// runs are, so that "added" compares figures taken under the same
// conditions on the machine.
func (e *env) moderate(ctx context.Context) error {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no total bound: each front keeps its own pool
	t.MaxIdleConnsPerHost = 64
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	defer t.CloseIdleConnections()
	c := &http.Client{Transport: t, Timeout: 5 * time.Second}
	headers := benchHeaders(e.token)
	rate := e.o.moderateRPS

	log.Printf("moderate load: warming %d fronts at %d req/s", len(e.fronts), rate)
	for _, f := range e.fronts {
		openLoop(ctx, c, f.url, headers, rate, moderateWarm)
	}
	p50s, p99s, p999s, cpus := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	errs := map[string]int64{}
	for r := 0; r < e.o.rounds; r++ {
		for _, f := range e.fronts {
			log.Printf("moderate load round %d/%d: %s", r+1, e.o.rounds, f.name)
			cpu0 := f.cpuSeconds()
			res := openLoop(ctx, c, f.url, headers, rate, e.o.moderateDur)
			if err := ctx.Err(); err != nil {
				return err
			}
			if n := len(res.latencies) + int(res.errors); n > 0 {
				cpus[f.name] = append(cpus[f.name], (f.cpuSeconds()-cpu0)/float64(n)*1e6)
			}
			if len(res.latencies) == 0 {
				return fmt.Errorf("moderate load on %s: no request answered (%d errors)", f.name, res.errors)
			}
			slices.Sort(res.latencies)
			p50s[f.name] = append(p50s[f.name], quantile(res.latencies, 0.50))
			p99s[f.name] = append(p99s[f.name], quantile(res.latencies, 0.99))
			p999s[f.name] = append(p999s[f.name], quantile(res.latencies, 0.999))
			errs[f.name] += res.errors
		}
	}
	for _, f := range e.fronts {
		e.report.moderate = append(e.report.moderate, moderateRow{
			name: f.name, p50: median(p50s[f.name]), p99: median(p99s[f.name]), p999: median(p999s[f.name]),
			addedP50: median(minus(p50s[f.name], p50s["direct"])), addedP99: median(minus(p99s[f.name], p99s["direct"])),
			p99s: p99s[f.name], addedP99s: minus(p99s[f.name], p99s["direct"]), errors: errs[f.name],
			cpu: median(cpus[f.name]),
		})
	}
	return nil
}

// openLoop sends the bench request to url at rate per second for d over
// c's keep-alive connections. Request i is due at start + i/rate whatever
// happened to the others, and its latency runs from that due time, not
// from when it was sent, to the end of its body: a request sent late (the
// client behind, a connection still busy) counts its wait, which a closed
// loop like wrk's would omit. At most maxInFlight requests are outstanding.
func openLoop(ctx context.Context, c *http.Client, url string, headers []string, rate int, d time.Duration) openLoopResult {
	var (
		mu  sync.Mutex
		res openLoopResult
		wg  sync.WaitGroup
	)
	slots := make(chan struct{}, maxInFlight)
	n := int(d.Seconds() * float64(rate))
	undo := preciseSleeps() // this goroutine keeps the schedule
	defer undo()
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		sleepUntil(due)
		select {
		case slots <- struct{}{}:
		default: // the bound is reached: the front is not keeping up
			mu.Lock()
			res.errors++
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			err := get(ctx, c, url, headers)
			lat := time.Since(due)
			<-slots
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.errors++
				return
			}
			res.latencies = append(res.latencies, lat)
		})
	}
	wg.Wait()
	return res
}

// get sends the bench request and reads the whole answer, which must be 200.
func get(ctx context.Context, c *http.Client, url string, headers []string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return nil
}

// quantile is the q-quantile of sorted latencies (nearest rank), in µs.
func quantile(sorted []time.Duration, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return float64(sorted[max(i, 0)]) / float64(time.Microsecond)
}

// minus is a[i] − b[i], pairwise: a front's figure less direct's in the
// same round.
func minus(a, b []float64) []float64 {
	d := make([]float64, min(len(a), len(b)))
	for i := range d {
		d[i] = a[i] - b[i]
	}
	return d
}
