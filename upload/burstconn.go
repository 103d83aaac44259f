package upload

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
)

// An upload whose client sends nothing for a while still holds what the
// outbound PUT holds. net/http's transport copies a request body onto the
// connection with the connection's ReadFrom when it has one, and otherwise
// with io.Copy and a fresh 32 KiB buffer held for the whole body, idle or
// not. burstConn gives storage connections a ReadFrom that reads into a
// small buffer while the client trickles, and takes a pooled 32 KiB buffer
// only while bytes flow, handing it back as soon as the flow thins. (The
// transport also holds a pooled 32 KiB buffer of its own for the whole
// body, which no connection can avoid; and the server's 4 KiB reader per
// client connection stays.)

const (
	// burstSmall is the buffer a read waits in while the client trickles.
	burstSmall = 512
	// burstBig is the pooled buffer of a flowing body.
	burstBig = 32 << 10
	// burstKeep is the least a read into the big buffer must return for
	// the next read to keep it: below that the flow has thinned, and the
	// next read may wait on the client.
	burstKeep = 4 << 10
)

var burstBuffers = sync.Pool{New: func() any { b := make([]byte, burstBig); return &b }}

// burstConn is a storage connection with a ReadFrom that holds a big
// buffer only while the body flows.
type burstConn struct{ net.Conn }

// ReadFrom copies r onto the connection until r ends.
func (c burstConn) ReadFrom(r io.Reader) (n int64, err error) {
	small := make([]byte, burstSmall)
	buf := small
	var big *[]byte
	defer func() {
		if big != nil {
			burstBuffers.Put(big)
		}
	}()
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			w, werr := c.Conn.Write(buf[:m])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
			if w != m {
				return n, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
		switch {
		case big == nil && m == len(buf):
			// The small buffer filled: bytes are flowing.
			big = burstBuffers.Get().(*[]byte)
			buf = *big
		case big != nil && m < burstKeep:
			burstBuffers.Put(big)
			big, buf = nil, small
		}
	}
}

// dialBurst dials through c's address check and wraps the connection.
func (c *Client) dialBurst(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return burstConn{conn}, nil
}

// dialTLSBurst is the storage transport's TLS dial: the address check, the
// handshake with t's TLS configuration (HTTP/1.1 only: S3 and Azure take
// PUTs over HTTP/1.1, and net/http speaks HTTP/2 only over a *tls.Conn),
// and a burstConn around the TLS connection, which has no ReadFrom of its
// own.
func (c *Client) dialTLSBurst(t *http.Transport) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := c.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				raw.Close()
				return nil, err
			}
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		hctx := ctx
		if t.TLSHandshakeTimeout > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, t.TLSHandshakeTimeout)
			defer cancel()
		}
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil, errors.New("upload: TLS handshake timeout")
			}
			return nil, err
		}
		return burstConn{tc}, nil
	}
}
