// Package strictjson decodes JSON the way an edge must read what it is
// told: one value per key, nothing the target does not name, valid UTF-8
// and nothing after the value. encoding/json is lenient on each of these
// (the last duplicate key wins, invalid UTF-8 becomes U+FFFD, and a
// Decoder stops after the first value), and each leniency lets two readers
// of one document disagree.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Decode reads one JSON object or array of at most limit bytes from r into
// v, which must be a pointer. It refuses: more than limit bytes; a document
// that is not valid UTF-8; `null` or a scalar at the top; the same key
// twice in one object, at any depth; a key that v's structs do not name
// (as json.Decoder.DisallowUnknownFields); anything but white space after
// the value. Errors name the key or the offset at fault.
func Decode(r io.Reader, limit int64, v any) error {
	return decode(r, limit, v, true)
}

func decode(r io.Reader, limit int64, v any, closed bool) error {
	// The document is read once into a buffer bounded by limit, as
	// json.Decoder would buffer it anyway before decoding, then checked,
	// then decoded.
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("document larger than %d bytes", limit)
	}
	return unmarshal(buf.Bytes(), v, closed)
}

// DecodeOpen is Decode for answers of services that may add members: a key
// that v's structs do not name is ignored. Everything else is as strict.
func DecodeOpen(r io.Reader, limit int64, v any) error {
	return decode(r, limit, v, false)
}

// Unmarshal is Decode for a document already in memory.
func Unmarshal(data []byte, v any) error { return unmarshal(data, v, true) }

func unmarshal(data []byte, v any, closed bool) error {
	if !utf8.Valid(data) {
		return errors.New("document is not valid UTF-8")
	}
	if err := checkKeys(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if closed {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// checkKeys walks the document's tokens: the top value must be an object
// or an array, no object may hold a key twice, and nothing may follow the
// value.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || (d != '{' && d != '[') {
		return fmt.Errorf("document is %s, want an object or an array", describe(tok))
	}
	// One frame per open object or array; objects remember their keys.
	type frame struct {
		keys  map[string]bool // nil for an array
		path  string          // of the object or array itself, for errors
		key   string          // the object's current key
		atKey bool            // an object, before its next key or its end
	}
	open := func(d json.Delim, path string) frame {
		if d == '{' {
			return frame{keys: map[string]bool{}, path: path, atKey: true}
		}
		return frame{path: path}
	}
	stack := []frame{open(tok.(json.Delim), "")}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		top := &stack[len(stack)-1]
		if top.atKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				continue
			}
			key := tok.(string) // the decoder allows only a string here
			if top.keys[key] {
				return fmt.Errorf("key %q appears twice in %s", key, where(top.path))
			}
			top.keys[key], top.key, top.atKey = true, key, false
			continue
		}
		path := top.path + "[]"
		if top.keys != nil {
			path = top.path + "." + top.key
			top.atKey = true // after this value comes a key or the end
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, open(tok.(json.Delim), path))
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return "the top object"
	}
	return "object " + strings.TrimPrefix(path, ".")
}

func describe(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
