package redistest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a server, and can silently stop
// forwarding on the connections it holds (Freeze) without closing them,
// as a network cut or a dropped NAT entry does: the client's socket
// stays open and nothing comes back. New connections are forwarded.
type Proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	gates  []*atomic.Bool // one per connection: set when frozen
	conns  []net.Conn
}

// NewProxy starts a proxy to target on a free loopback port; it stops
// when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Freeze stops forwarding on every connection open now, leaving them open.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.gates {
		g.Store(true)
	}
	p.gates = nil
}

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		frozen := new(atomic.Bool)
		p.mu.Lock()
		p.gates = append(p.gates, frozen)
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(up, c, frozen)
		go p.pipe(c, up, frozen)
	}
}

// pipe copies src to dst until either fails; once frozen it reads and
// drops, and never writes again.
func (p *Proxy) pipe(dst, src net.Conn, frozen *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *Proxy) close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}
