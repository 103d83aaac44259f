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
	"reflect"
	"strings"
	"unicode"
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
	if err := checkKeys(data, reflect.TypeOf(v)); err != nil {
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
// value. An object decoded into a struct, or into a type not known here,
// may not hold two keys that differ only in case either ("zone" and
// "Zone", or "ſone"): encoding/json matches struct fields
// case-insensitively, the last one winning, so such a pair is one field
// to it and two to every other reader. A map's keys are compared exactly.
// t is the type decoded into.
func checkKeys(data []byte, t reflect.Type) error {
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
		typ   reflect.Type    // what it is decoded into; nil when not known
	}
	open := func(d json.Delim, path string, t reflect.Type) frame {
		t = deref(t)
		if d == '{' {
			return frame{keys: map[string]bool{}, path: path, atKey: true, typ: t}
		}
		return frame{path: path, typ: t}
	}
	stack := []frame{open(tok.(json.Delim), "", t)}
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
			seen := key
			if top.typ == nil || top.typ.Kind() != reflect.Map {
				seen = foldKey(key)
			}
			if top.keys[seen] {
				return fmt.Errorf("key %q appears twice in %s", key, where(top.path))
			}
			top.keys[seen], top.key, top.atKey = true, key, false
			continue
		}
		path := top.path + "[]"
		child := elemType(top.typ)
		if top.keys != nil {
			path = top.path + "." + top.key
			top.atKey = true // after this value comes a key or the end
			if top.typ != nil && top.typ.Kind() == reflect.Struct {
				child = fieldType(top.typ, top.key)
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, open(tok.(json.Delim), path, child))
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// foldKey returns key with each rune replaced by the least rune of its
// case folding orbit, so that two keys are equal exactly when
// strings.EqualFold (and so encoding/json's field matching) says they are.
func foldKey(key string) string {
	var b strings.Builder
	for _, r := range key {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// deref returns t without its pointers.
func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// elemType is the type of the values of a map, slice or array t; nil
// otherwise.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return t.Elem()
	}
	return nil
}

// fieldType is the type of the field of struct t that encoding/json
// decodes key into; nil when there is none.
func fieldType(t reflect.Type, key string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			if inner := deref(f.Type); inner.Kind() == reflect.Struct {
				if ft := fieldType(inner, key); ft != nil {
					return ft
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f.Type
		}
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
