package edge

import (
	"cmp"
	"container/list"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// Defaults of [ConnLimits].
const (
	DefaultMaxConns          = 10_000
	DefaultMaxConnsPerClient = 256
	DefaultIdleUnderPressure = 5 * time.Second
)

// ConnLimits bounds the connections one server holds, so that one client
// cannot take every file descriptor of the process: 2 clients opening
// 11,000 connections each otherwise exhaust it ("accept4: too many open
// files") and every other client waits. The zero ConnLimits is the
// default; zero in a field means that field's default.
type ConnLimits struct {
	// Max is the most connections open at once. A new connection past it
	// takes the place of the one that has waited longest for a request (a
	// new connection for its first, a kept-alive one for its next), or is
	// closed at once when every connection is busy. Default
	// DefaultMaxConns (10,000).
	Max int
	// PerClient is the most connections one client address may hold: an
	// IPv4 address, or an IPv6 /64 (one host's usual allocation). A
	// connection past it is closed at once. Default
	// DefaultMaxConnsPerClient (256): a large office behind one NAT
	// address may need more.
	PerClient int
	// IdleUnderPressure is how long a connection may wait for a request
	// once more than three quarters of Max are open; it is then closed to
	// make room. Below that mark the server's own ReadHeaderTimeout and
	// IdleTimeout apply. Default DefaultIdleUnderPressure (5 s).
	IdleUnderPressure time.Duration
}

// LimitConns returns l limited by lim, for srv to serve: it sets
// srv.ConnState (calling the hook already set there, if any) to learn which
// connections wait for a request. Refused connections are reset, not
// answered: the limit applies before TLS and HTTP. When accepting fails for
// want of file descriptors, the connections that have waited longest are
// closed to free some; http.Server backs off between such failures (5 ms,
// doubling to 1 s), so the accept loop never spins. It is an error for a
// field of lim to be negative.
func LimitConns(srv *http.Server, l net.Listener, lim ConnLimits) (net.Listener, error) {
	if lim.Max < 0 || lim.PerClient < 0 || lim.IdleUnderPressure < 0 {
		return nil, fmt.Errorf("edge: LimitConns: negative limit in %+v", lim)
	}
	lim.Max = cmp.Or(lim.Max, DefaultMaxConns)
	lim.PerClient = cmp.Or(lim.PerClient, DefaultMaxConnsPerClient)
	lim.IdleUnderPressure = cmp.Or(lim.IdleUnderPressure, DefaultIdleUnderPressure)
	cl := &connLimiter{
		Listener:  l,
		lim:       lim,
		now:       time.Now,
		perClient: map[netip.Prefix]int{},
	}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		cl.track(c, s)
		if next != nil {
			next(c, s)
		}
	}
	return cl, nil
}

// connLimiter is the listener of LimitConns.
type connLimiter struct {
	net.Listener
	lim ConnLimits
	now func() time.Time

	mu        sync.Mutex
	open      int
	refused   int // connections closed at accept, for tests and figures
	perClient map[netip.Prefix]int
	waiting   list.List // of *limitedConn waiting for a request, longest first
}

// limitedConn is a connection the limiter counts until it is closed.
type limitedConn struct {
	net.Conn
	l        *connLimiter
	client   netip.Prefix
	waiting  *list.Element // in l.waiting, or nil
	since    time.Time     // when it began to wait
	released bool          // no longer counted (closed, or chosen to close)
}

// Accept admits or refuses each connection the listener accepts.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				l.closeAll(l.shed())
			}
			return nil, err
		}
		lc, victims := l.admit(c)
		l.closeAll(victims)
		if lc != nil {
			return lc, nil
		}
		reset(c)
	}
}

// admit counts c in, and returns the connections to close to make room
// for it; it returns nil for c when c is over a limit.
func (l *connLimiter) admit(c net.Conn) (*limitedConn, []*limitedConn) {
	client := clientPrefix(c.RemoteAddr())
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.perClient[client] >= l.lim.PerClient {
		l.refused++
		return nil, nil
	}
	var victims []*limitedConn
	if l.open >= l.lim.Max*3/4 { // under pressure: close who waited too long
		for e := l.waiting.Front(); e != nil; e = l.waiting.Front() {
			w := e.Value.(*limitedConn)
			if now.Sub(w.since) < l.lim.IdleUnderPressure {
				break
			}
			victims = append(victims, l.releaseLocked(w))
		}
	}
	if l.open >= l.lim.Max {
		e := l.waiting.Front()
		if e == nil { // every connection is busy with a request
			l.refused++
			return nil, victims
		}
		victims = append(victims, l.releaseLocked(e.Value.(*limitedConn)))
	}
	lc := &limitedConn{Conn: c, l: l, client: client}
	l.open++
	l.perClient[client]++
	l.waitLocked(lc, now)
	return lc, victims
}

// shed chooses connections to close when the process has run out of file
// descriptors: a tenth of those waiting for a request, at least one.
func (l *connLimiter) shed() []*limitedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := max(1, l.waiting.Len()/10)
	var victims []*limitedConn
	for e := l.waiting.Front(); e != nil && len(victims) < n; e = l.waiting.Front() {
		victims = append(victims, l.releaseLocked(e.Value.(*limitedConn)))
	}
	return victims
}

// closeAll closes victims, outside the lock: their count is already
// released.
func (l *connLimiter) closeAll(victims []*limitedConn) {
	for _, c := range victims {
		c.Conn.Close()
	}
}

// track is the server's ConnState hook: a connection waits for a request
// when it is idle between requests, and no longer once one arrives. A
// new connection waits from its admission.
func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok || lc.l != l {
		return // another listener's, when one server serves several
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lc.released {
		return
	}
	switch s {
	case http.StateIdle:
		l.waitLocked(lc, l.now())
	case http.StateActive, http.StateHijacked, http.StateClosed:
		if lc.waiting != nil {
			l.waiting.Remove(lc.waiting)
			lc.waiting = nil
		}
	}
}

func (l *connLimiter) waitLocked(lc *limitedConn, now time.Time) {
	if lc.waiting != nil {
		l.waiting.Remove(lc.waiting)
	}
	lc.since = now
	lc.waiting = l.waiting.PushBack(lc)
}

// releaseLocked stops counting lc and returns it.
func (l *connLimiter) releaseLocked(lc *limitedConn) *limitedConn {
	if lc.released {
		return lc
	}
	lc.released = true
	if lc.waiting != nil {
		l.waiting.Remove(lc.waiting)
		lc.waiting = nil
	}
	l.open--
	if l.perClient[lc.client]--; l.perClient[lc.client] <= 0 {
		delete(l.perClient, lc.client)
	}
	return lc
}

// Close closes the connection and stops counting it.
func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// reset closes c with a TCP reset, so a refused connection leaves no
// TIME_WAIT behind on the server.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
