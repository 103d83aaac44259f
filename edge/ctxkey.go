package edge

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
)

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
	v, _ := k.Lookup(ctx)
	return v
}

// Lookup returns the key's value in ctx and whether it was set.
func (k *Key[T]) Lookup(ctx context.Context) (T, bool) {
	switch v := ctx.Value(k).(type) {
	case T:
		return v, true
	case *T: // a string held in a request scope (see Attach), or a value of With
		return *v, true
	}
	var zero T
	return zero, false
}

// With returns a copy of ctx carrying v under the key, in one allocation
// (context.WithValue would box v in a second).
func (k *Key[T]) With(ctx context.Context, v T) context.Context {
	return &valueContext[T]{Context: ctx, key: k, v: v}
}

// valueContext is the context node of [Key.With]: what
// context.WithValue(ctx, key, v) returns, with v unboxed. Value answers
// with &v, which [Key.Lookup] reads as v.
type valueContext[T any] struct {
	context.Context
	key *Key[T]
	v   T
}

// Value implements context.Context.
func (c *valueContext[T]) Value(key any) any {
	if key == any(c.key) {
		return &c.v
	}
	return c.Context.Value(key)
}

// Attach returns a request whose context carries v under the key: what
// r.WithContext(k.With(r.Context(), v)) returns, usually without its two
// allocations. Middlewares of one chain that each add a value share one
// request scope: the first Attach installs it, and a later one stores its
// value there and returns r itself, as long as nothing has derived another
// context from r's since. Values attached later shadow earlier ones, as
// nested contexts do; a handler that returned sees what the handlers it
// called attached.
func (k *Key[T]) Attach(r *http.Request, v T) *http.Request {
	return k.attachIn(r, v, nil)
}

// attachIn is Attach with the request's state st (see [requestState]),
// allocated by the caller, to hold the scope when one must be installed;
// nil allocates a bare scope.
func (k *Key[T]) attachIn(r *http.Request, v T, st *requestState) *http.Request {
	sl := slot{key: k}
	if str, ok := any(v).(string); ok {
		sl.str, sl.val = str, inStr{} // no boxing: Value answers with &str
	} else {
		sl.val = v
	}
	if s, ok := r.Context().(*scope); ok && s.put(sl) {
		return r
	}
	if st == nil {
		s := &scope{Context: r.Context()}
		s.put(sl)
		return r.WithContext(s)
	}
	s := &st.scope
	s.state, s.Context = st, r.Context()
	s.put(sl)
	// The request copy that WithContext makes lives in st too: inlined
	// here, WithContext's own copy stays on the stack.
	st.req = *r.WithContext(s)
	return &st.req
}

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }

// scope is the context node that [Key.Attach] installs once per request
// and fills in place. Slots are written under mu and published by n, never
// changed after, so Value reads them without a lock while the request's
// goroutines run.
type scope struct {
	context.Context
	mu    sync.Mutex
	n     atomic.Int32
	slots [8]slot // a chain attaches a request ID, log fields, company, zone, principal, region, country
	// state is the request state that holds this scope, when [RequestID]
	// installed it; nil otherwise.
	state *requestState
}

// requestState is what the middlewares of one chain need per request,
// allocated in one piece by [RequestID] (the first of them) rather than
// piece by piece: the request scope and the request copy that carries it,
// the ID's header values and, for the
// [AccessLog] behind it, the response wrapper, the body counter and the log
// fields. An AccessLog that finds the scope in its request's context takes
// these once (taken); any other allocates its own, as without a
// RequestID in front.
type requestState struct {
	req    http.Request // the request handed on, carrying scope
	scope  scope
	ids    [2]string // the request ID's header values: request, response
	rw     ResponseWriter
	body   countingBody
	fields logFields
	taken  atomic.Bool
}

// requestStateOf returns the request state installed in ctx by a
// [RequestID] just in front, for the first caller only; nil otherwise.
func requestStateOf(ctx context.Context) *requestState {
	if s, ok := ctx.(*scope); ok && s.state != nil && s.state.taken.CompareAndSwap(false, true) {
		return s.state
	}
	return nil
}

// slot holds one attached value: a string in str (val is then inStr{}),
// anything else in val.
type slot struct {
	key any
	val any
	str string
}

// inStr marks a slot whose value is its str.
type inStr struct{}

// put stores sl and reports whether there was room.
func (s *scope) put(sl slot) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.n.Load()
	if int(i) == len(s.slots) {
		return false
	}
	s.slots[i] = sl
	s.n.Store(i + 1)
	return true
}

// Value returns the newest value attached under key, else the parent's.
func (s *scope) Value(key any) any {
	for i := s.n.Load() - 1; i >= 0; i-- {
		if sl := &s.slots[i]; sl.key == key {
			if _, ok := sl.val.(inStr); ok {
				return &sl.str
			}
			return sl.val
		}
	}
	return s.Context.Value(key)
}
