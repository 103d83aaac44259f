package otelsetup

import (
	"errors"
	"io"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// Option configures [Setup]. An invalid value is an error from Setup that
// names the option.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithConsole".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

type config struct {
	console     io.Writer
	serviceName string
	prometheus  bool // SetupMetrics only
}

// newConfig applies opts over the defaults, which install nothing but what
// the environment asks for.
func newConfig(opts []Option) (*config, error) {
	c := &config{}
	if err := optcheck.ApplyAll(c, "otelsetup", "Setup", opts, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithConsole makes Setup also write every span to w, one JSON object per
// span as it ends: for local runs, whatever OTEL_TRACES_EXPORTER says. By
// default spans go only where OTEL_TRACES_EXPORTER says; nil is an error.
func WithConsole(w io.Writer) Option {
	return Option{"WithConsole", func(c *config) error {
		if w == nil {
			return errors.New("nil writer")
		}
		c.console = w
		return nil
	}}
}

// WithServiceName sets the service.name of Setup's resource when neither
// OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one: the operator's
// environment wins over the code. The default is
// "unknown_service:" and the program's name; the empty name is an error.
func WithServiceName(name string) Option {
	return Option{"WithServiceName", func(c *config) error {
		if name == "" {
			return errors.New("empty service name")
		}
		c.serviceName = name
		return nil
	}}
}
