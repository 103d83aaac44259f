package otelsetup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// propagator is W3C trace context and baggage, the one package tracing
// uses whatever the global is.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Setup installs the global TracerProvider described by the standard OTEL_*
// environment variables, and the W3C trace context and baggage propagator.
// It returns the function that flushes pending spans and stops the exporters;
// call it before the process exits.
//
//   - OTEL_TRACES_EXPORTER: a comma-separated list of otlp (OTLP over HTTP,
//     configured by the OTEL_EXPORTER_OTLP_* variables), console (JSON lines on
//     standard output) and none. Unset, it is otlp when
//     OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
//     and none otherwise: unlike the specification's default, a service with
//     nothing configured sends nothing anywhere.
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: the samplers of the
//     specification; the default is parentbased_always_on.
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the resource. They win
//     over WithServiceName.
//   - OTEL_SDK_DISABLED=true: no provider, as with no exporter.
//
// With no exporter Setup leaves the global no-op provider in place, and
// tracing.Middleware and tracing.Transport skip otelhttp: a request costs a
// few nanoseconds more than without tracing, yet the caller's trace context
// still reaches the outbound calls.
//
// A malformed variable or option is an error, and nothing is installed.
func Setup(ctx context.Context, opts ...SetupOption) (shutdown func(context.Context) error, err error) {
	c, err := newConfig("Setup", opts, SetupOption.setupOption)
	if err != nil {
		return nil, err
	}
	noShutdown := func(context.Context) error { return nil }
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		otel.SetTextMapPropagator(propagator)
		return noShutdown, nil
	}
	names, err := exportersFromEnv()
	if err != nil {
		return nil, err
	}
	sampler, err := samplerFromEnv()
	if err != nil {
		return nil, err
	}
	exporters, err := newExporters(ctx, names, c.console)
	if err != nil {
		return nil, err
	}
	if len(exporters) == 0 {
		otel.SetTextMapPropagator(propagator)
		return noShutdown, nil
	}
	res, err := newResource(ctx, c.serviceName)
	if err != nil {
		for _, e := range exporters {
			_ = e.exporter.Shutdown(ctx)
		}
		return nil, err
	}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	for _, e := range exporters {
		if e.sync {
			tpOpts = append(tpOpts, sdktrace.WithSyncer(e.exporter))
		} else {
			tpOpts = append(tpOpts, sdktrace.WithBatcher(e.exporter))
		}
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	return tp.Shutdown, nil
}

// exportersFromEnv reads OTEL_TRACES_EXPORTER; see Setup.
func exportersFromEnv() ([]string, error) {
	v := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))
	if v == "" {
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
			return []string{"otlp"}, nil
		}
		return nil, nil
	}
	var names []string
	for name := range strings.SplitSeq(v, ",") {
		switch name = strings.ToLower(strings.TrimSpace(name)); name {
		case "otlp", "console":
			names = append(names, name)
		case "none":
		default:
			return nil, fmt.Errorf("otelsetup: OTEL_TRACES_EXPORTER: unknown exporter %q (want otlp, console or none)", name)
		}
	}
	return names, nil
}

type exporter struct {
	exporter sdktrace.SpanExporter
	// sync exports each span as it ends: for consoles, read by people who
	// expect to see a request's spans when it is answered.
	sync bool
}

func newExporters(ctx context.Context, names []string, console io.Writer) ([]exporter, error) {
	var out []exporter
	add := func(e sdktrace.SpanExporter, sync bool, err error) error {
		if err != nil {
			for _, e := range out {
				_ = e.exporter.Shutdown(ctx)
			}
			return err
		}
		out = append(out, exporter{e, sync})
		return nil
	}
	for _, name := range names {
		var err error
		switch name {
		case "otlp":
			e, newErr := newOTLP(ctx)
			err = add(e, false, newErr)
		case "console":
			e, newErr := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
			err = add(e, true, newErr)
		}
		if err != nil {
			return nil, err
		}
	}
	if console != nil {
		e, err := stdouttrace.New(stdouttrace.WithWriter(console))
		if err := add(e, true, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newOTLP returns the OTLP/HTTP exporter, which reads the other
// OTEL_EXPORTER_OTLP_* variables itself. gRPC is refused rather than quietly
// replaced by HTTP, which would send to the wrong port.
func newOTLP(ctx context.Context) (sdktrace.SpanExporter, error) {
	for _, key := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(os.Getenv(key)); p != "" {
			if p != "http/protobuf" {
				return nil, fmt.Errorf("otelsetup: %s: protocol %q not supported (want http/protobuf)", key, p)
			}
			break
		}
	}
	e, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otelsetup: OTLP exporter: %w", err)
	}
	return e, nil
}

// samplerFromEnv reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. The SDK
// reads them too, but only reports a mistake to the otel error handler and
// goes on with its default; a configuration error belongs to Setup's caller.
func samplerFromEnv() (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
	arg := strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER_ARG"))
	ratio := func() (sdktrace.Sampler, error) {
		if arg == "" {
			return sdktrace.TraceIDRatioBased(1), nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("otelsetup: OTEL_TRACES_SAMPLER_ARG: %q is not a ratio from 0 to 1", arg)
		}
		return sdktrace.TraceIDRatioBased(r), nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return ratio()
	case "parentbased_traceidratio":
		s, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(s), nil
	}
	return nil, fmt.Errorf("otelsetup: OTEL_TRACES_SAMPLER: unknown sampler %q", name)
}

// newResource describes the service: the SDK's attributes, then
// serviceName (or the specification's "unknown_service:" default), then the
// environment, each overriding the one before.
func newResource(ctx context.Context, serviceName string) (*resource.Resource, error) {
	if serviceName == "" {
		serviceName = "unknown_service:" + filepath.Base(os.Args[0])
	}
	r, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("otelsetup: resource from OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return r, nil
}
