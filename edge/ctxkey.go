package edge

import "context"

// Key is a typed context key. Each package declares its keys with [NewKey]
// and exposes XFromContext(ctx) / ContextWithX(ctx, v) accessors built on it, so a value's
// type is checked at compile time and its name shows when debugging.
type Key[T any] struct {
	name string
}

// NewKey returns a new, distinct key. The name is for debugging only; two
// keys with the same name are still different keys.
func NewKey[T any](name string) *Key[T] {
	return &Key[T]{name: name}
}

// Value returns the key's value in ctx, or the zero T when there is none.
func (k *Key[T]) Value(ctx context.Context) T {
	v, _ := ctx.Value(k).(T)
	return v
}

// Lookup returns the key's value in ctx and whether it was set.
func (k *Key[T]) Lookup(ctx context.Context) (T, bool) {
	v, ok := ctx.Value(k).(T)
	return v, ok
}

// With returns a copy of ctx carrying v under the key.
func (k *Key[T]) With(ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, k, v)
}

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }
