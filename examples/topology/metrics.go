package main

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
)

// DefaultAdminAddr is where the admin listener serves /metrics: loopback
// only, never a public host.
const DefaultAdminAddr = "127.0.0.1:9090"

// setupMetrics creates cellgate's instruments for the topology: on
// cfg.meters when a test gives one, otherwise on the global provider, which
// otelsetup.SetupMetrics installs (with a Prometheus exporter) when there
// is an admin listener. It installs the problem observer, and returns the
// admin listener's handler (nil without one) and what to call at the end.
func setupMetrics(ctx context.Context, cfg *config) (admin http.Handler, stop func(), err error) {
	mp := cfg.meters
	stop = func() {}
	var prom http.Handler
	if mp == nil && cfg.admin != "" {
		m, err := otelsetup.SetupMetrics(ctx, otelsetup.WithPrometheus(), otelsetup.WithServiceName("cellgate-topology"))
		if err != nil {
			return nil, nil, err
		}
		mp, prom = m.MeterProvider(), m.Handler()
		stop = func() { _ = m.Shutdown(context.WithoutCancel(ctx)) }
	}
	// A nil mp is the default: the global provider.
	if cfg.metrics, err = tracing.NewInstruments(tracing.WithMeterProvider(mp)); err != nil {
		stop()
		return nil, nil, err
	}
	edge.SetProblemObserver(cfg.metrics.Problem)
	prev := stop
	stop = func() { edge.SetProblemObserver(nil); prev() }
	if cfg.admin == "" {
		return nil, stop, nil
	}
	mux := http.NewServeMux()
	if prom != nil {
		mux.Handle("GET /metrics", prom)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, edge.ErrNotFound) })
	return mux, stop, nil
}

// adminListener listens for the admin host.
func adminListener(cfg config, h http.Handler) (reference.Listener, error) {
	l, err := net.Listen("tcp", cfg.admin)
	if err != nil {
		return reference.Listener{}, fmt.Errorf("topology: listen for admin: %w", err)
	}
	return reference.Listener{Name: "admin", Listener: l, Handler: h}, nil
}
