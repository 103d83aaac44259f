package experiment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// Units are the identities a request can be assigned by; an experiment
// reads the one its Unit names. An empty one puts the request in none of
// the experiments that assign by it.
type Units struct {
	User    string // the signed-in user, a passport's sub
	Session string // the session's ID (never its token), a passport's sid
	Company string // the company the request acts for
}

func (u Units) of(unit Unit) string {
	switch unit {
	case UnitSession:
		return u.Session
	case UnitCompany:
		return u.Company
	}
	return u.User
}

// Observer is told every exposure that Set.Middleware counts, for
// metrics. Its method takes only standard types, so tracing.Instruments
// implements it with an OpenTelemetry counter while this package imports
// none. The experiment and variant are always a configured key and one of
// its variant names, never a value from the request, so they are safe as
// metric attributes. It is called on the request path and must be fast.
type Observer interface {
	ExperimentExposure(ctx context.Context, experiment, variant string)
}

// Set is the experiments an edge runs. It assigns variants (Assign, for
// the passport issuer's hook) and, as Middleware behind passport's
// Gateway, exposes the request's variants to later stages and counts
// exposures per experiment and variant for the sample ratio check.
// A Set is immutable and safe for concurrent use; to change weights, build
// a new one (every process that assigns must hold the same experiments).
type Set struct {
	exps   []Experiment      // sorted by key
	counts [][]atomic.Uint64 // counts[i][j]: exposures of exps[i].Variants[j]
	obs    Observer          // nil: none
}

// NewSet returns the Set of exps: at most MaxVariants experiments with
// distinct keys, each valid (see Experiment and Variant). The Set keeps
// its own copy. Options: WithObserver.
func NewSet(exps []Experiment, opts ...SetOption) (*Set, error) {
	var c setConfig
	if err := applyOptions(&c, "NewSet", opts, SetOption.setOption); err != nil {
		return nil, err
	}
	if len(exps) > MaxVariants {
		return nil, fmt.Errorf("%w: %d experiments, more than %d", ErrConfig, len(exps), MaxVariants)
	}
	s := &Set{exps: make([]Experiment, 0, len(exps)), obs: c.observer}
	for _, e := range exps {
		e, err := validate(e)
		if err != nil {
			return nil, fmt.Errorf("experiment: NewSet: %w", err)
		}
		s.exps = append(s.exps, e)
	}
	slices.SortFunc(s.exps, func(a, b Experiment) int { return strings.Compare(a.Key, b.Key) })
	for i := 1; i < len(s.exps); i++ {
		if s.exps[i].Key == s.exps[i-1].Key {
			return nil, fmt.Errorf("experiment: NewSet: %w: experiment %s twice", ErrConfig, s.exps[i].Key)
		}
	}
	s.counts = make([][]atomic.Uint64, len(s.exps))
	for i, e := range s.exps {
		s.counts[i] = make([]atomic.Uint64, len(e.Variants))
	}
	return s, nil
}

// Experiments returns a copy of the Set's experiments, sorted by key.
func (s *Set) Experiments() []Experiment {
	out := make([]Experiment, len(s.exps))
	for i, e := range s.exps {
		e.Variants = slices.Clone(e.Variants)
		out[i] = e
	}
	return out
}

// find returns the index of the experiment key, or -1.
func (s *Set) find(key string) int {
	i, ok := slices.BinarySearchFunc(s.exps, key, func(e Experiment, k string) int { return strings.Compare(e.Key, k) })
	if !ok {
		return -1
	}
	return i
}

// Variant returns the variant of experiment key for u, or "" when the Set
// has no such experiment or u lacks its unit. It does not allocate.
func (s *Set) Variant(key string, u Units) string {
	i := s.find(key)
	if i < 0 {
		return ""
	}
	return s.exps[i].Assign(u.of(s.exps[i].Unit))
}

// Assign returns the variants of every experiment of the Set for u,
// skipping those whose unit u lacks. Any process that holds the same
// experiments assigns the same variants: nothing but the key, the unit's
// value and the weights enters the choice.
func (s *Set) Assign(u Units) Variants {
	var v Variants
	for _, e := range s.exps {
		if name := e.Assign(u.of(e.Unit)); name != "" {
			if v == nil {
				v = make(Variants, 0, len(s.exps))
			}
			v = append(v, Assignment{e.Key, name}) // s.exps is sorted, so v is
		}
	}
	return v
}

// count counts one exposure of each of v's variants that the Set knows,
// and tells the observer. Unknown experiments and variants are not
// counted: metric attributes come from the configuration only.
func (s *Set) count(ctx context.Context, v Variants) {
	for _, a := range v {
		i := s.find(a.Experiment)
		if i < 0 {
			continue
		}
		e := s.exps[i]
		j := slices.IndexFunc(e.Variants, func(x Variant) bool { return x.Name == a.Variant })
		if j < 0 {
			continue
		}
		s.counts[i][j].Add(1)
		if s.obs != nil {
			s.obs.ExperimentExposure(ctx, e.Key, e.Variants[j].Name)
		}
	}
}

// Exposures returns how many requests Middleware has counted for each
// variant of experiment key since the Set was built, in the order of its
// variants, or nil when the Set has no such experiment.
func (s *Set) Exposures(key string) []uint64 {
	i := s.find(key)
	if i < 0 {
		return nil
	}
	out := make([]uint64, len(s.counts[i]))
	for j := range s.counts[i] {
		out[j] = s.counts[i][j].Load()
	}
	return out
}
