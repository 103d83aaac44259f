package experiment

import (
	"errors"
	"fmt"
)

// option is one option: its name (for errors) and what it does to the
// configuration of the constructor that reads it.
type option[C any] struct {
	name  string
	apply func(*C) error
}

// SetOption configures NewSet.
type SetOption interface{ setOption() option[setConfig] }

// SampleRatioOption configures CheckSampleRatio and Set.CheckSampleRatio.
type SampleRatioOption interface {
	sampleRatioOption() option[srmConfig]
}

type setConfig struct {
	observer Observer
}

type srmConfig struct {
	threshold float64
}

type setOpt option[setConfig]

func (o setOpt) setOption() option[setConfig] { return option[setConfig](o) }

type srmOpt option[srmConfig]

func (o srmOpt) sampleRatioOption() option[srmConfig] { return option[srmConfig](o) }

// WithObserver makes the Set's Middleware tell o of every exposure, for
// metrics (tracing.Instruments implements Observer). The default is no
// observer; the Set counts exposures itself either way (Exposures).
func WithObserver(o Observer) SetOption {
	return setOpt{"WithObserver", func(c *setConfig) error {
		if o == nil {
			return errors.New("nil observer (leave the option out for none)")
		}
		c.observer = o
		return nil
	}}
}

// DefaultThreshold is the p-value below which CheckSampleRatio reports a
// sample ratio mismatch: 0.001, the usual SRM alarm, strict because the
// check runs again and again on growing counts.
const DefaultThreshold = 0.001

// WithThreshold sets the p-value below which the counts are a mismatch;
// DefaultThreshold when not given. It must be in (0, 1).
func WithThreshold(p float64) SampleRatioOption {
	return srmOpt{"WithThreshold", func(c *srmConfig) error {
		if !(p > 0 && p < 1) {
			return fmt.Errorf("threshold %v is not in (0, 1)", p)
		}
		c.threshold = p
		return nil
	}}
}

// applyOptions applies opts, extracted by get, to c for the constructor
// ctor: a nil option is an error, as is a zero one or a value it refuses.
func applyOptions[O comparable, C any](c *C, ctor string, opts []O, get func(O) option[C]) error {
	var zero O
	for _, o := range opts {
		if o == zero {
			return fmt.Errorf("experiment: %s: nil option", ctor)
		}
		opt := get(o)
		if opt.apply == nil {
			return fmt.Errorf("experiment: %s: zero option", ctor)
		}
		if err := opt.apply(c); err != nil {
			return fmt.Errorf("experiment: %s: %s: %w", ctor, opt.name, err)
		}
	}
	return nil
}
