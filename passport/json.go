package passport

import (
	"io"

	"github.com/cellgate/cellgate/internal/strictjson"
)

// Body limits: a session with every bound filled stays well under maxSessionBody.
const (
	maxSessionBody = 256 << 10
	maxSmallBody   = 16 << 10
	maxJWKSBody    = 256 << 10
)

// decodeJSON reads exactly one JSON object of at most limit bytes from r
// into v, strictly (internal/strictjson): no unknown field, no key twice,
// valid UTF-8, nothing after the value.
func decodeJSON(r io.Reader, limit int64, v any) error {
	return strictjson.Decode(r, limit, v)
}
