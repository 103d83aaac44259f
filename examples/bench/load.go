package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// front is one thing wrk is pointed at.
type front struct {
	name    string
	desc    string
	url     string
	pgids   []int    // process groups whose CPU counts (router + gateway for the chain)
	admins  []string // Go fronts' admin addresses, for Mallocs
	goFront bool

	rps, p50, p99, cpu, allocs []float64
	errors                     int64
}

// cpuSeconds is the CPU time the front's processes have used so far.
func (f *front) cpuSeconds() float64 {
	var s float64
	for _, g := range f.pgids {
		s += groupCPU(g)
	}
	return s
}

// benchHeaders are sent on every request to every front: company 1 (zone
// us01) and the session of the gateway's warm passport cache.
func benchHeaders(token string) []string {
	return []string{"Procore-Company-Id: 1", "Cookie: cellgate_session=" + token}
}

const benchPath = "/rest/v1.0/projects/7/rfis"

// wrkResult is what one wrk run printed.
type wrkResult struct {
	requests float64
	rps      float64
	p50, p99 float64 // milliseconds
	non2xx   int64
	errors   int64
}

var (
	reRequests = regexp.MustCompile(`(\d+) requests in`)
	reRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func runWrk(ctx context.Context, url string, headers []string, d time.Duration) (wrkResult, error) {
	args := []string{"-t2", "-c64", "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	cctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v: %s", url, err, out)
	}
	s := string(out)
	var r wrkResult
	if m := reRequests.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reRPS.FindStringSubmatch(s); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reNon2xx.FindStringSubmatch(s); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reSocket.FindStringSubmatch(s); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			r.errors += n
		}
	}
	r.p50 = latency(s, "50%")
	r.p99 = latency(s, "99%")
	if r.requests == 0 {
		return r, fmt.Errorf("wrk %s: no requests: %s", url, s)
	}
	return r, nil
}

// latency reads a line "  99%   12.34ms" of wrk's distribution in ms.
func latency(out, pct string) float64 {
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(pct) + `\s+([\d.]+)(us|ms|s)`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}

// measure runs wrk once against f and records the figures.
func measure(ctx context.Context, f *front, headers []string, d time.Duration) error {
	cpu0 := f.cpuSeconds()
	var m0 []int64
	for _, a := range f.admins {
		m0 = append(m0, mallocs(ctx, a))
	}
	r, err := runWrk(ctx, f.url, headers, d)
	if err != nil {
		return err
	}
	cpu1 := f.cpuSeconds()
	f.rps = append(f.rps, r.rps)
	f.p50 = append(f.p50, r.p50)
	f.p99 = append(f.p99, r.p99)
	f.cpu = append(f.cpu, (cpu1-cpu0)/r.requests*1e6)
	f.errors += r.non2xx + r.errors
	if f.goFront {
		var allocs float64
		ok := true
		for i, a := range f.admins {
			m1 := mallocs(ctx, a)
			if m0[i] < 0 || m1 < 0 {
				ok = false
			}
			allocs += float64(m1 - m0[i])
		}
		if ok {
			f.allocs = append(f.allocs, allocs/r.requests)
		}
	}
	return nil
}

// check sends one request and wants 200 with the cell's body.
func check(ctx context.Context, url string, headers []string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 4<<10) // a bounded peek at a small answer
	n, _ := io.ReadFull(resp.Body, buf)
	b := buf[:n]
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"service":"cell"`) {
		return fmt.Errorf("%s answered %d: %s", url, resp.StatusCode, b)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(v) }
