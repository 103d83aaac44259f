package experiment

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// Header is the internal header in which the variants of a request travel
// from the gateway to the cell and to every stage between, in the form of
// Variants.String. passport's Gateway sets it from the passport it
// injects, replacing every spelling a client or an earlier hop sent, and
// edge.StripInternal removes it from untrusted requests with every other
// Cellgate- header. The cell's source of truth is the passport's signed
// "variants" claim (passport.ClaimsFromContext(ctx).Variants); the header
// is for the stages that do not verify passports, such as a response cache.
const Header = "Cellgate-Experiments"

// MaxVariants bounds the experiments of a Set, and so the variants of one
// request, its header and its passport claim.
const MaxVariants = 32

// Assignment is the variant of one experiment.
type Assignment struct {
	Experiment string // the experiment's key
	Variant    string // the variant's name
}

// Variants are the variants of one request, sorted by experiment key, at
// most one per experiment. The zero value is no experiment.
type Variants []Assignment

// Get returns the variant of the experiment key, or "".
func (v Variants) Get(key string) string {
	i, ok := slices.BinarySearchFunc(v, key, func(a Assignment, k string) int { return strings.Compare(a.Experiment, k) })
	if !ok {
		return ""
	}
	return v[i].Variant
}

// String returns the stable form of v: "key=variant" pairs sorted by key
// and joined by ", " ("checkout=treatment, header=blue"), "" for none. Two
// requests have equal strings exactly when they have the same variants, so
// it is what a cache adds to its key, and it is the value of Header.
func (v Variants) String() string {
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0].Experiment + "=" + v[0].Variant
	}
	var b strings.Builder
	for i, a := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Experiment)
		b.WriteByte('=')
		b.WriteString(a.Variant)
	}
	return b.String()
}

// Map returns v as a map from experiment key to variant, as a passport's
// "variants" claim holds it; nil for none.
func (v Variants) Map() map[string]string {
	if len(v) == 0 {
		return nil
	}
	m := make(map[string]string, len(v))
	for _, a := range v {
		m[a.Experiment] = a.Variant
	}
	return m
}

// VariantsOfMap returns the Variants of m, such as a verified passport's
// "variants" claim, refusing what Header could not carry: an invalid key
// or name, or more than MaxVariants.
func VariantsOfMap(m map[string]string) (Variants, error) {
	if len(m) > MaxVariants {
		return nil, fmt.Errorf("experiment: %d variants, more than %d", len(m), MaxVariants)
	}
	v := make(Variants, 0, len(m))
	for k, name := range m {
		if !validName(k) || !validName(name) {
			return nil, fmt.Errorf("experiment: variant %q=%q: want 1 to %d of A-Z a-z 0-9 _ . -", k, name, MaxNameLen)
		}
		v = append(v, Assignment{k, name})
	}
	slices.SortFunc(v, func(a, b Assignment) int { return strings.Compare(a.Experiment, b.Experiment) })
	return v, nil
}

// ParseVariants parses the form of Variants.String (spaces around the
// items are ignored). It refuses an invalid key or name, an experiment
// named twice and more than MaxVariants items.
func ParseVariants(s string) (Variants, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	n := strings.Count(s, ",") + 1
	if n > MaxVariants {
		return nil, fmt.Errorf("experiment: %d variants, more than %d", n, MaxVariants)
	}
	v := make(Variants, 0, n)
	for item := range strings.SplitSeq(s, ",") {
		k, name, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || !validName(k) || !validName(name) {
			return nil, fmt.Errorf("experiment: variant %q is not key=variant", item)
		}
		v = append(v, Assignment{k, name})
	}
	slices.SortFunc(v, func(a, b Assignment) int { return strings.Compare(a.Experiment, b.Experiment) })
	for i := 1; i < len(v); i++ {
		if v[i].Experiment == v[i-1].Experiment {
			return nil, fmt.Errorf("experiment: experiment %s named twice", v[i].Experiment)
		}
	}
	return v, nil
}

var variantsKey = edge.NewKey[Variants]("experiment.variants")

// VariantsFromContext returns the variants of the request whose context is
// ctx, as Set.Middleware put them there, or nil.
func VariantsFromContext(ctx context.Context) Variants { return variantsKey.Value(ctx) }

// ContextWithVariants returns a copy of ctx carrying v, for tests and for
// work started outside a request.
func ContextWithVariants(ctx context.Context, v Variants) context.Context {
	return variantsKey.With(ctx, v)
}
