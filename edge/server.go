package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of [NewServer].
const (
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request line and headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultKeepAliveTimeout is how long a kept-alive connection may wait
	// for its next request.
	DefaultKeepAliveTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds the request line and headers a client
	// may send; more is answered 431.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultShutdownGrace is how long [Server.Run] lets in-flight
	// requests, uploads included, finish before it cuts their connections.
	DefaultShutdownGrace = 30 * time.Second
)

// ErrGraceExpired is returned (wrapped) by [Server.Shutdown] and
// [Server.Run] when in-flight requests were still running when the grace
// ran out: their connections were cut, and each was logged at Warn. The
// server is shut down nonetheless.
var ErrGraceExpired = errors.New("shutdown grace expired; in-flight connections were cut")

// ServerOption configures [NewServer].
type ServerOption interface{ serverOption() option }

type serverOpt option

func (o serverOpt) serverOption() option { return option(o) }

// serverConfig is what only NewServer reads.
type serverConfig struct {
	readHeader time.Duration
	keepAlive  time.Duration
	maxHeader  int
	grace      time.Duration
	conns      ConnLimits
	tls        *tls.Config
	name       string
	noBodyIdle bool
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		readHeader: DefaultReadHeaderTimeout,
		keepAlive:  DefaultKeepAliveTimeout,
		maxHeader:  DefaultMaxHeaderBytes,
		grace:      DefaultShutdownGrace,
	}
}

// Server is an http.Server hardened for the edge, with its graceful
// shutdown: request headers bounded in time ([WithReadHeaderTimeout]) and
// size ([WithMaxHeaderBytes]), kept-alive connections in time
// ([WithKeepAliveTimeout]), every request body by the sliding idle deadline
// of [BodyIdle] ([WithBodyIdle]), and the connections it holds, in all and
// per client address, by [LimitConns] ([WithConnLimits]). It has no
// ReadTimeout or WriteTimeout, which would cut every long upload or
// download short: the body guards slide with the body's progress instead.
type Server struct {
	srv     *http.Server
	name    string
	grace   time.Duration
	conns   ConnLimits
	log     *slog.Logger
	tracker *connTracker
}

// NewServer returns a Server serving h. Its options are
// [WithReadHeaderTimeout], [WithKeepAliveTimeout], [WithMaxHeaderBytes],
// [WithBodyIdle], [WithoutBodyIdle], [WithConnLimits], [WithTLSConfig],
// [WithShutdownGrace], [WithServerName] and [WithLogger] (the server's own
// errors at Warn, and the connections a shutdown cuts). A nil h, or an
// invalid option, is an error.
func NewServer(h http.Handler, opts ...ServerOption) (*Server, error) {
	if h == nil {
		return nil, errors.New("edge: NewServer: nil handler")
	}
	c, err := newConfig("NewServer", opts, ServerOption.serverOption)
	if err != nil {
		return nil, err
	}
	sc := c.server
	if !sc.noBodyIdle {
		h = bodyIdle(c.bodyIdle)(h)
	}
	s := &Server{
		name:    sc.name,
		grace:   sc.grace,
		conns:   sc.conns,
		log:     c.log(),
		tracker: &connTracker{conns: map[net.Conn]connInfo{}},
	}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: sc.readHeader,
		IdleTimeout:       sc.keepAlive,
		MaxHeaderBytes:    sc.maxHeader,
		TLSConfig:         sc.tls,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         s.tracker.track,
	}
	return s, nil
}

// HTTPServer returns the http.Server that s runs, to read its settings or
// add what no option covers (BaseContext, a ConnContext) before serving.
// Changing a setting an option governs, or replacing ConnState, undoes
// what the option promised.
func (s *Server) HTTPServer() *http.Server { return s.srv }

// Serve serves l, limited by [LimitConns] with the server's [ConnLimits],
// over TLS when [WithTLSConfig] gave a configuration (its certificates
// included), until the server is shut down; it then returns
// http.ErrServerClosed, as http.Server.Serve does.
func (s *Server) Serve(l net.Listener) error {
	ln, err := LimitConns(s.srv, l, s.conns)
	if err != nil {
		return err
	}
	if s.srv.TLSConfig != nil {
		return s.srv.ServeTLS(ln, "", "")
	}
	return s.srv.Serve(ln)
}

// Shutdown stops s gracefully: its listeners close at once and in-flight
// requests get until ctx ends to finish. When ctx ends first, each
// connection still open is logged at Warn and closed, and the error wraps
// [ErrGraceExpired] and says how many were cut.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		cut := s.tracker.logCut(s.log, s.name)
		s.srv.Close()
		return fmt.Errorf("edge: shutdown: %w (%d connections cut)", ErrGraceExpired, cut)
	}
	s.srv.Close()
	return fmt.Errorf("edge: shutdown: %w", err)
}

// Run serves l until ctx ends, then shuts s down with the grace of
// [WithShutdownGrace] ([DefaultShutdownGrace] by default). It returns nil
// after a clean shutdown, an error wrapping [ErrGraceExpired] when the
// grace ran out, or the error that made serving fail.
func (s *Server) Run(ctx context.Context, l net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil // shut down by someone else
		}
		return fmt.Errorf("edge: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace)
	defer cancel()
	err := s.Shutdown(sctx)
	<-served
	return err
}

// WithReadHeaderTimeout bounds how long a client of [NewServer] may take
// to send its request line and headers. The default (or zero) is
// [DefaultReadHeaderTimeout]; a negative timeout is an error.
func WithReadHeaderTimeout(d time.Duration) ServerOption {
	return serverOpt{"WithReadHeaderTimeout", func(c *config) error {
		return positiveOrDefault(d, DefaultReadHeaderTimeout, &c.server.readHeader)
	}}
}

// WithKeepAliveTimeout bounds how long a kept-alive connection of
// [NewServer] may wait for its next request. The default (or zero) is
// [DefaultKeepAliveTimeout]; a negative timeout is an error.
func WithKeepAliveTimeout(d time.Duration) ServerOption {
	return serverOpt{"WithKeepAliveTimeout", func(c *config) error {
		return positiveOrDefault(d, DefaultKeepAliveTimeout, &c.server.keepAlive)
	}}
}

// WithShutdownGrace sets how long [Server.Run] lets in-flight requests
// finish once its context ends. The default (or zero) is
// [DefaultShutdownGrace]; a negative grace is an error.
func WithShutdownGrace(d time.Duration) ServerOption {
	return serverOpt{"WithShutdownGrace", func(c *config) error {
		return positiveOrDefault(d, DefaultShutdownGrace, &c.server.grace)
	}}
}

// WithMaxHeaderBytes bounds the request line and headers a client of
// [NewServer] may send; more is answered 431. The default (or zero) is
// [DefaultMaxHeaderBytes]; a negative size is an error.
func WithMaxHeaderBytes(n int) ServerOption {
	return serverOpt{"WithMaxHeaderBytes", func(c *config) error {
		return positiveOrDefault(n, DefaultMaxHeaderBytes, &c.server.maxHeader)
	}}
}

// WithConnLimits sets the connection limits of [NewServer] (see
// [LimitConns]). The default (or the zero ConnLimits, field by field) is
// [DefaultMaxConns] in all and [DefaultMaxConnsPerClient] per client; a
// negative field is an error.
func WithConnLimits(lim ConnLimits) ServerOption {
	return serverOpt{"WithConnLimits", func(c *config) error {
		if lim.Max < 0 || lim.PerClient < 0 || lim.IdleUnderPressure < 0 {
			return fmt.Errorf("negative limit in %+v", lim)
		}
		c.server.conns = lim
		return nil
	}}
}

// WithTLSConfig makes [NewServer] serve HTTPS with cfg, which holds the
// certificates. By default (or nil) it serves plain HTTP, as behind a
// TLS-terminating load balancer.
func WithTLSConfig(cfg *tls.Config) ServerOption {
	return serverOpt{"WithTLSConfig", func(c *config) error {
		c.server.tls = cfg
		return nil
	}}
}

// WithServerName names the server in the log lines of its shutdown
// (server="api"), for a process that runs several. By default (or "") they
// carry no name; a name must not hold a control character.
func WithServerName(name string) ServerOption {
	return serverOpt{"WithServerName", func(c *config) error {
		if !validHeaderValue(name) {
			return errors.New("server name holds a control character")
		}
		c.server.name = name
		return nil
	}}
}

// WithoutBodyIdle makes [NewServer] serve without the [BodyIdle] guard,
// for a handler that puts its own deadlines on every body. The guard
// already steps aside for a handler that sets read deadlines itself (the
// upload handler does), so few need this.
func WithoutBodyIdle() ServerOption {
	return serverOpt{"WithoutBodyIdle", func(c *config) error {
		c.server.noBodyIdle = true
		return nil
	}}
}

// positiveOrDefault stores v in dst, or def when v is zero; a negative v
// is an error.
func positiveOrDefault[T int | time.Duration](v, def T, dst *T) error {
	switch {
	case v < 0:
		return fmt.Errorf("%v is negative", v)
	case v == 0:
		v = def
	}
	*dst = v
	return nil
}

// connTracker follows the connections of one server, so that when the
// grace runs out the log says which ones were cut.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connInfo
}

// connInfo is what is known of one tracked connection.
type connInfo struct {
	state http.ConnState
	since time.Time // when it entered state
}

// track is the server's ConnState hook.
func (t *connTracker) track(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = connInfo{state: s, since: time.Now()}
	}
}

// logCut logs every connection still open, which Close is about to cut,
// and returns how many there were.
func (t *connTracker) logCut(logger *slog.Logger, name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, info := range t.conns {
		attrs := []slog.Attr{
			slog.String("remote", c.RemoteAddr().String()), slog.String("state", info.state.String()),
			slog.Duration("in_state_for", time.Since(info.since).Round(time.Millisecond)),
		}
		if name != "" {
			attrs = append([]slog.Attr{slog.String("server", name)}, attrs...)
		}
		logger.LogAttrs(context.Background(), slog.LevelWarn, "shutdown grace expired: cutting connection", attrs...)
	}
	return len(t.conns)
}
