package strictjson

import (
	"strings"
	"testing"
)

type zoneDoc struct {
	Zone string `json:"zone"`
	URL  string `json:"web_base_url"`
}

func TestDecodeRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"null":                {`null`, "null"},
		"scalar":              {`"x"`, "a string"},
		"duplicate top key":   {`{"1": {"zone": "us01"}, "1": {"zone": "us02"}}`, `key "1" appears twice in the top object`},
		"duplicate inner key": {`{"1": {"zone": "us01", "zone": "us02"}}`, `key "zone" appears twice in object 1`},
		"duplicate deep key":  {`{"1": {"zone": "us01"}, "2": {"web_base_url": "a", "zone": "b", "web_base_url": "c"}}`, `key "web_base_url" appears twice in object 2`},
		// encoding/json matches struct fields case-insensitively, the
		// last spelling winning: one field to it, two to any other reader.
		"field in another case":   {`{"1": {"zone": "us01", "ZONE": "us02"}}`, `key "ZONE" appears twice in object 1`},
		"field in a Unicode fold": {`{"1": {"web_base_url": "a", "web_baſe_url": "b"}}`, `appears twice in object 1`},
		"invalid UTF-8":           {"{\"1\": {\"zone\": \"us\xff\"}}", "UTF-8"},
		"trailing value":          {`{} {}`, "after the JSON value"},
		"trailing garbage":        {`{}x`, "after the JSON value"},
		"unknown field":           {`{"1": {"zone": "us01", "region": "x"}}`, "unknown field"},
		"too large":               {`{"1": {"zone": "` + strings.Repeat("a", 100) + `"}}`, "larger than"},
		"truncated":               {`{"1": {"zone": "us01"}`, "EOF"},
	} {
		var v map[string]zoneDoc
		err := Decode(strings.NewReader(tc.doc), 100, &v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestDecodeAccepts(t *testing.T) {
	doc := ` {"1": {"zone": "us01", "web_base_url": "https://a"}, "2": {"zone": "us02", "web_base_url": "https://b"}} ` + "\n"
	var v map[string]zoneDoc
	if err := Decode(strings.NewReader(doc), 1<<10, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) != 2 || v["2"].Zone != "us02" {
		t.Fatalf("decoded %+v", v)
	}
	// The same key in sibling objects, and in the elements of an array, is
	// not a duplicate.
	var list []zoneDoc
	if err := Unmarshal([]byte(`[{"zone": "a"}, {"zone": "b"}]`), &list); err != nil || len(list) != 2 {
		t.Fatalf("array: %v, %+v", err, list)
	}
	// A map's keys are its own: two keys in two cases are two entries.
	var m map[string]map[string]string
	if err := Unmarshal([]byte(`{"1": {"a": "x", "A": "y"}}`), &m); err != nil || m["1"]["A"] != "y" {
		t.Fatalf("map keys in two cases: %v, %+v", err, m)
	}
	var nested map[string]map[string]zoneDoc
	if err := Unmarshal([]byte(`{"a": {"x": {"zone": "1"}}, "b": {"x": {"zone": "2"}}}`), &nested); err != nil {
		t.Fatalf("nested: %v", err)
	}
}

func TestDecodeOpenIgnoresUnknownKeysOnly(t *testing.T) {
	var v zoneDoc
	if err := DecodeOpen(strings.NewReader(`{"zone": "us01", "region": "x"}`), 100, &v); err != nil || v.Zone != "us01" {
		t.Fatalf("unknown key: %v, %+v", err, v)
	}
	for _, doc := range []string{`{"zone": "a", "zone": "b"}`, `{"zone": "a"} x`, "{\"zone\": \"\xff\"}"} {
		if err := DecodeOpen(strings.NewReader(doc), 100, &v); err == nil {
			t.Errorf("%q accepted", doc)
		}
	}
}
