package experiment

import (
	"errors"
	"fmt"
	"math"

	"github.com/twmb/murmur3"
)

// Unit is what an experiment assigns a variant to: every request of one
// unit gets the same variant.
type Unit string

// The units an experiment can assign by.
const (
	// UnitUser is the signed-in user (a passport's sub): sticky across the
	// user's sessions, devices and gateways. The default.
	UnitUser Unit = "user"
	// UnitSession is one session (a passport's sid): a new sign-in may
	// land in another variant.
	UnitSession Unit = "session"
	// UnitCompany is the company the request acts for: every user of one
	// customer sees the same variant.
	UnitCompany Unit = "company"
)

// Variant is one arm of an experiment and its share of the units.
type Variant struct {
	// Name is what the variant is called in passports, headers and
	// metrics: 1 to MaxNameLen of A-Z a-z 0-9 _ . - .
	Name string
	// Weight is the variant's share, relative to the sum of the
	// experiment's weights (which must be positive and at most
	// math.MaxInt32). Unlike an option, 0 is not a default here: a
	// variant of weight 0 gets no units, as in flagd.
	Weight int
}

// Experiment is one experiment: its key, the unit it assigns and its
// variants. The assignment is OpenFeature flagd's "fractional" operation
// with the flag key Key and the targeting key the unit's value, so a
// backend that evaluates
//
//	{"fractional": [["control", 50], ["treatment", 50]]}
//
// for flag Key with flagd, targeting key the user, gets the same variant
// for every user.
type Experiment struct {
	// Key names the experiment (flagd's flag key): 1 to MaxNameLen of
	// A-Z a-z 0-9 _ . - .
	Key string
	// Unit is what gets one variant; "" means UnitUser.
	Unit Unit
	// Variants are the arms, in order: the order is part of the
	// assignment (see Assign).
	Variants []Variant
}

// MaxNameLen bounds an experiment key and a variant name.
const MaxNameLen = 64

// maxStackHash is the longest key+unit hashed without allocating.
const maxStackHash = 256

// ErrConfig wraps every error of an invalid experiment.
var ErrConfig = errors.New("experiment: invalid configuration")

// validName reports whether s is a valid key or variant name: it must be
// safe in a header, a JSON claim and a metric attribute as it is.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validate returns why e is not a valid experiment, or nil, and e with
// its defaults filled in and its own copy of the variants.
func validate(e Experiment) (Experiment, error) {
	if !validName(e.Key) {
		return e, fmt.Errorf("%w: experiment key %q: want 1 to %d of A-Z a-z 0-9 _ . -", ErrConfig, e.Key, MaxNameLen)
	}
	switch e.Unit {
	case "":
		e.Unit = UnitUser
	case UnitUser, UnitSession, UnitCompany:
	default:
		return e, fmt.Errorf("%w: experiment %s: unknown unit %q", ErrConfig, e.Key, e.Unit)
	}
	if len(e.Variants) == 0 {
		return e, fmt.Errorf("%w: experiment %s: no variants", ErrConfig, e.Key)
	}
	e.Variants = append([]Variant(nil), e.Variants...) // the caller's slice may change later
	seen := make(map[string]bool, len(e.Variants))
	var total int64
	for _, v := range e.Variants {
		switch {
		case !validName(v.Name):
			return e, fmt.Errorf("%w: experiment %s: variant name %q: want 1 to %d of A-Z a-z 0-9 _ . -", ErrConfig, e.Key, v.Name, MaxNameLen)
		case seen[v.Name]:
			return e, fmt.Errorf("%w: experiment %s: variant %s twice", ErrConfig, e.Key, v.Name)
		case v.Weight < 0:
			return e, fmt.Errorf("%w: experiment %s: variant %s: negative weight %d", ErrConfig, e.Key, v.Name, v.Weight)
		}
		seen[v.Name] = true
		if total += int64(v.Weight); total > math.MaxInt32 {
			return e, fmt.Errorf("%w: experiment %s: weights sum to more than %d", ErrConfig, e.Key, math.MaxInt32)
		}
	}
	if total == 0 {
		return e, fmt.Errorf("%w: experiment %s: every weight is 0", ErrConfig, e.Key)
	}
	return e, nil
}

// Assign returns the variant of the unit whose value is unit (a user ID,
// a session ID or a company ID), or "" when unit is empty: an anonymous
// request is in no experiment, as flagd answers the default for an empty
// targeting key. An experiment that NewSet would refuse (no weight, a
// negative one) assigns "" too.
//
// The algorithm is flagd's fractional (core/pkg/evaluator/fractional.go,
// since flagd core v0.15, 2026): h = MurmurHash3 x86 32-bit, seed 0, of
// the bytes of Key followed by unit; bucket = (h × total) >> 32 in 64-bit
// unsigned arithmetic, total the sum of the weights; the variant is the
// first whose cumulative weight exceeds bucket. So changing weights moves
// only the units whose bucket changes range: moving 10 of 100 from one
// variant to the next, with the order and total kept, moves 10% of the
// units, all from the one to the other; another experiment's units never
// move, as its key is hashed with them.
//
// It does not allocate when Key and unit together fit 256 bytes.
func (e Experiment) Assign(unit string) string {
	if unit == "" {
		return ""
	}
	i := index(e.Variants, hashKeyUnit(e.Key, unit))
	if i < 0 {
		return ""
	}
	return e.Variants[i].Name
}

// index returns the index of the variant whose range holds hash, or -1
// when the weights are not valid.
func index(variants []Variant, hash uint32) int {
	var total uint64
	for _, v := range variants {
		if v.Weight < 0 {
			return -1
		}
		total += uint64(v.Weight)
	}
	if total == 0 || total > math.MaxInt32 {
		return -1
	}
	bucket := (uint64(hash) * total) >> 32
	var end uint64
	for i, v := range variants {
		if end += uint64(v.Weight); bucket < end {
			return i
		}
	}
	return -1 // unreachable: bucket < total
}

// hashKeyUnit is MurmurHash3 x86 32 of key+unit, concatenated in a stack
// buffer when they fit.
func hashKeyUnit(key, unit string) uint32 {
	var buf [maxStackHash]byte
	var b []byte
	if len(key)+len(unit) <= len(buf) {
		b = append(append(buf[:0], key...), unit...)
	} else {
		b = []byte(key + unit)
	}
	return murmur3.Sum32(b)
}
