package passport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Body limits: a session with every bound filled stays well under maxSessionBody.
const (
	maxSessionBody = 256 << 10
	maxSmallBody   = 16 << 10
	maxJWKSBody    = 256 << 10
)

// decodeJSON reads exactly one JSON value of at most limit bytes from r into
// v, refusing unknown fields and trailing data, without reading r whole.
func decodeJSON(r io.Reader, limit int64, v any) error {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("body larger than %d bytes", limit)
		}
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
