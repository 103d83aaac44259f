package otelsetup

import (
	"io"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// SetupOption configures [Setup].
type SetupOption interface{ setupOption() option }

// MetricsOption configures [SetupMetrics].
type MetricsOption interface{ metricsOption() option }

type (
	setupOpt   option
	metricsOpt option
)

func (o setupOpt) setupOption() option     { return option(o) }
func (o metricsOpt) metricsOption() option { return option(o) }

// ServiceNameOption is [WithServiceName]: an option of [Setup] and
// [SetupMetrics].
type ServiceNameOption struct{ o option }

func (o ServiceNameOption) setupOption() option   { return o.o }
func (o ServiceNameOption) metricsOption() option { return o.o }

type config struct {
	console     io.Writer
	serviceName string
	prometheus  bool // SetupMetrics only
}

// newConfig applies opts, taken apart by get, over the defaults, which
// install nothing but what the environment asks for. A nil option is
// refused as the zero one is.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "otelsetup", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithConsole makes [Setup] also write every span to w, one JSON object per
// span as it ends: for local runs, whatever OTEL_TRACES_EXPORTER says. By
// default (or nil) spans go only where OTEL_TRACES_EXPORTER says.
func WithConsole(w io.Writer) SetupOption {
	return setupOpt{"WithConsole", func(c *config) error {
		c.console = w
		return nil
	}}
}

// WithServiceName sets the service.name of the resource of [Setup] and
// [SetupMetrics] when neither OTEL_SERVICE_NAME nor
// OTEL_RESOURCE_ATTRIBUTES names one: the operator's environment wins over
// the code. The default (or "") is "unknown_service:" and the program's
// name.
func WithServiceName(name string) ServiceNameOption {
	return ServiceNameOption{option{"WithServiceName", func(c *config) error {
		c.serviceName = name
		return nil
	}}}
}
