package cache

import "github.com/cellgate/cellgate/edge"

// note is how a Coalescer inside a Cache tells it that a response was
// collapsed, so that one Cache-Status member says so.
type note struct{ collapsed bool }

var noteKey = edge.NewKey[*note]("cache.note")
