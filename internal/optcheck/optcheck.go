// Package optcheck is the one implementation of cellgate's checked option
// values: every library option carries its name and an apply function that
// may refuse a value. Apply runs them in order and says, naming package,
// constructor and option, what is wrong: a nil or zero option, or a value
// the option refuses. That an option belongs to a constructor at all is
// checked by the compiler: each constructor has its own option type.
package optcheck

import (
	"cmp"
	"fmt"
)

// Apply applies opts to c, in order, for the constructor ctor of package
// pkg. parts takes an option apart into its name and its apply function
// (nil for a nil or zero option). Which options a constructor takes is the
// compiler's business (each constructor has its own option type); Apply
// refuses what only run time can see: a nil or zero option, and a value
// the option refuses, naming package, constructor and option.
func Apply[O, C any](c *C, pkg, ctor string, opts []O, parts func(O) (string, func(*C) error)) error {
	for _, o := range opts {
		name, apply := parts(o)
		if apply == nil {
			return fmt.Errorf("%s: %s: zero Option", pkg, ctor)
		}
		if err := apply(c); err != nil {
			return fmt.Errorf("%s: %s: %s: %w", pkg, ctor, name, err)
		}
	}
	return nil
}

// Positive refuses v ≤ 0: a size, a count or a duration that must be set.
func Positive[T cmp.Ordered](v T) error {
	var zero T
	if v <= zero {
		return fmt.Errorf("%v is not positive", v)
	}
	return nil
}

// NotNegative refuses v < 0, where zero has a meaning of its own.
func NotNegative[T cmp.Ordered](v T) error {
	var zero T
	if v < zero {
		return fmt.Errorf("%v is negative", v)
	}
	return nil
}

// Set returns an option's apply function that stores v through set once
// check (nil: none) accepts it, so an option reads as one line:
//
//	Option{"WithTimeout", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.timeout = d })}
func Set[C, T any](v T, check func(T) error, set func(*C, T)) func(*C) error {
	return func(c *C) error {
		if check != nil {
			if err := check(v); err != nil {
				return err
			}
		}
		set(c, v)
		return nil
	}
}
