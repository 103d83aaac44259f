// Package optcheck is the one implementation of cellgate's checked options:
// every library package's Option carries its name and an apply function
// that may refuse a value, and each constructor names the options it reads.
// Apply runs them in order and says, naming package, constructor and
// option, what is wrong: an option the constructor does not read, the zero
// Option, or a value the option refuses.
package optcheck

import (
	"cmp"
	"fmt"
	"slices"
)

// Apply applies opts to c for the constructor ctor of package pkg, which
// reads only the options named in reads. parts takes an option apart into
// its name and its apply function (nil for the zero Option).
func Apply[O, C any](c *C, pkg, ctor string, opts []O, reads []string, parts func(O) (string, func(*C) error)) error {
	return apply(c, pkg, ctor, opts, reads, true, parts)
}

// ApplyAll is Apply for a package whose one constructor reads every option.
func ApplyAll[O, C any](c *C, pkg, ctor string, opts []O, parts func(O) (string, func(*C) error)) error {
	return apply(c, pkg, ctor, opts, nil, false, parts)
}

func apply[O, C any](c *C, pkg, ctor string, opts []O, reads []string, checkReads bool, parts func(O) (string, func(*C) error)) error {
	for _, o := range opts {
		name, apply := parts(o)
		switch {
		case apply == nil:
			return fmt.Errorf("%s: %s: zero Option", pkg, ctor)
		case checkReads && !slices.Contains(reads, name):
			return fmt.Errorf("%s: %s does not take option %s", pkg, ctor, name)
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
