package reference

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// ReadHeaderTimeout bounds how long a client may take to send its request
// headers. There is no ReadTimeout: it would cover the whole body and cut
// every long upload short; edge.BodyIdle (and the upload handler's own
// deadline) slide with the body's progress instead.
const ReadHeaderTimeout = 10 * time.Second

// MaxHeaderBytes bounds the request line and headers a client may send;
// more is answered 431.
const MaxHeaderBytes = 64 << 10

// IdleTimeout is how long a kept-alive connection may wait for its next
// request.
const IdleTimeout = 2 * time.Minute

// DefaultGrace is how long a shutdown waits for in-flight requests,
// uploads included, before closing their connections.
const DefaultGrace = 30 * time.Second

// Listener is one public host of a service: where it listens and what it
// serves there.
type Listener struct {
	Name     string       // for logs and the banner: "api", "us01", …
	Listener net.Listener // already listening, so ports are known before serving
	Handler  http.Handler
	TLS      *tls.Config // serve HTTPS with it when set
	// Backend marks a host the others call (session storage, an object
	// store): it shuts down only once the others have drained, so their
	// in-flight requests can still reach it.
	Backend bool
	// BodyIdle is how long one read of a request body may wait for a byte
	// (edge.BodyIdle guards every host); zero or less means
	// edge.DefaultBodyIdle. The upload host needs no opt-out: its handler
	// sets read deadlines itself, and the guard steps aside for it.
	BodyIdle time.Duration
	// Conns bounds the connections the host holds, in all and per client
	// address (edge.LimitConns); the zero value is edge's defaults.
	Conns edge.ConnLimits
}

// URL returns the base URL of l, such as "http://127.0.0.1:8080".
func (l Listener) URL() string {
	scheme := "http"
	if l.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + l.Listener.Addr().String()
}

// Serve serves every listener, each behind edge.LimitConns(l.Conns) (at
// most 10,000 connections, 256 per client address, and a connection that
// waits over 5 s for a request closed once three quarters are open, by
// default), until ctx ends or one of them fails, then
// shuts them down with http.Server.Shutdown, the backends last: listeners
// close at once and in-flight requests, uploads included, get up to grace
// in all to finish before their connections are closed. When the grace runs
// out, each connection still open is logged at WARN and closed, and the
// error wraps [ErrGraceExpired].
func Serve(ctx context.Context, grace time.Duration, logger *slog.Logger, ls ...Listener) error {
	if logger == nil {
		logger = slog.Default()
	}
	servers := make([]*http.Server, len(ls))
	trackers := make([]*connTracker, len(ls))
	errc := make(chan error, len(ls))
	listeners := make([]net.Listener, len(ls))
	for i, l := range ls {
		srv := newServer(l, logger)
		trackers[i] = newConnTracker(l.Name)
		srv.ConnState = trackers[i].track
		servers[i] = srv
		ln, err := edge.LimitConns(srv, l.Listener, l.Conns)
		if err != nil {
			return fmt.Errorf("reference: serve %s: %w", l.Name, err)
		}
		listeners[i] = ln
	}
	for i, l := range ls {
		srv, ln := servers[i], listeners[i]
		go func() {
			var err error
			if l.TLS != nil {
				err = srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("reference: serve %s: %w", l.Name, err)
				return
			}
			errc <- nil
		}()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc: // a server failed: stop the others too
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	for _, backends := range []bool{false, true} {
		done := make(chan error, len(servers))
		n := 0
		for i, srv := range servers {
			if ls[i].Backend == backends {
				n++
				go func() { done <- srv.Shutdown(shutdownCtx) }()
			}
		}
		for range n {
			if serr := <-done; serr != nil && err == nil {
				err = fmt.Errorf("reference: shutdown: %w", serr)
			}
		}
	}
	if err != nil {
		cut := 0
		if errors.Is(err, context.DeadlineExceeded) {
			for _, t := range trackers {
				cut += t.logCut(logger)
			}
			err = fmt.Errorf("reference: shutdown after %v: %w (%d connections cut)", grace, ErrGraceExpired, cut)
		}
		for _, srv := range servers {
			srv.Close() // grace is over: drop what is left
		}
	}
	return err
}

// newServer returns the server of l: headers bounded in time
// (ReadHeaderTimeout) and size (MaxHeaderBytes), kept-alive connections in
// time (IdleTimeout), and every body read by the sliding idle deadline of
// edge.BodyIdle. There is no ReadTimeout, which would cut long uploads.
// Serve bounds its connections with edge.LimitConns.
func newServer(l Listener, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           edge.BodyIdle(l.BodyIdle)(l.Handler),
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		TLSConfig:         l.TLS,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// ServeUntilSignal serves ls until SIGINT or SIGTERM, then drains them as
// Serve does, with DefaultGrace. It is the end of every single-service main.
func ServeUntilSignal(ls ...Listener) error {
	for _, l := range ls {
		slog.Info("listening", "host", l.Name, "url", l.URL())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, DefaultGrace, nil, ls...)
}

// ListenAndServe serves h on addr, as the host called name, until SIGINT or
// SIGTERM.
func ListenAndServe(name, addr string, h http.Handler) error {
	l, err := Listen(name, addr, h)
	if err != nil {
		return err
	}
	return ServeUntilSignal(l)
}
