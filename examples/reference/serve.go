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
	// (edge.BodyIdle guards every host); zero means edge.DefaultBodyIdle.
	// The upload host needs no opt-out: its handler sets read deadlines
	// itself, and the guard steps aside for it.
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

// Serve serves every listener, each as an edge.Server (header, keep-alive
// and body limits, and edge.LimitConns(l.Conns): at most 10,000
// connections, 256 per client address, and a connection that waits over
// 5 s for a request closed once three quarters are open, by default),
// until ctx ends or one of them fails, then shuts them down with
// edge.Server.Shutdown, the backends last: listeners close at once and
// in-flight requests, uploads included, get up to grace in all to finish
// before their connections are closed. When the grace runs out, each
// connection still open is logged at WARN and closed, and the error wraps
// edge.ErrGraceExpired.
func Serve(ctx context.Context, grace time.Duration, logger *slog.Logger, ls ...Listener) error {
	if logger == nil {
		logger = slog.Default()
	}
	servers := make([]*edge.Server, len(ls))
	for i, l := range ls {
		srv, err := edge.NewServer(l.Handler, edge.WithServerName(l.Name), edge.WithLogger(logger),
			edge.WithBodyIdle(l.BodyIdle), edge.WithConnLimits(l.Conns), edge.WithTLSConfig(l.TLS))
		if err != nil {
			return fmt.Errorf("reference: serve %s: %w", l.Name, err)
		}
		servers[i] = srv
	}
	errc := make(chan error, len(ls))
	for i, l := range ls {
		srv := servers[i]
		go func() {
			err := srv.Serve(l.Listener)
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
	var cut []error
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
			if serr := <-done; serr != nil {
				cut = append(cut, serr)
			}
		}
	}
	if err == nil && len(cut) > 0 {
		err = fmt.Errorf("reference: shutdown after %v: %w", grace, errors.Join(cut...))
	}
	return err
}

// ServeUntilSignal serves ls until SIGINT or SIGTERM, then drains them as
// Serve does, with edge.DefaultShutdownGrace. It is the end of every single-service main.
func ServeUntilSignal(ls ...Listener) error {
	for _, l := range ls {
		slog.Info("listening", "host", l.Name, "url", l.URL())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, edge.DefaultShutdownGrace, nil, ls...)
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
