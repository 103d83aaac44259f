package hmacsig

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	key48 := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 16) // '+', '/' and '-', '_' in base64
	good := []struct{ name, in string }{
		{"hex lower", hex.EncodeToString(testKey)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(testKey))},
		{"hex with newline", hex.EncodeToString(testKey) + "\n"},
		{"base64 std padded", base64.StdEncoding.EncodeToString(testKey)},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(testKey)},
		{"base64 url padded", base64.URLEncoding.EncodeToString(testKey)},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(testKey)},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKey(c.in)
			if err != nil || !bytes.Equal(got, testKey) {
				t.Fatalf("ParseKey(%q) = %x, %v", c.in, got, err)
			}
		})
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if got, err := ParseKey(enc.EncodeToString(key48)); err != nil || !bytes.Equal(got, key48) {
			t.Fatalf("48-byte key: %x, %v", got, err)
		}
	}

	secret := hex.EncodeToString(testKey[:31])
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"blank", " \n"},
		{"short hex", secret},
		{"short base64", base64.StdEncoding.EncodeToString(testKey[:31])},
		{"neither", "not a key, not at all: " + secret + "!"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseKey(c.in)
			if err == nil {
				t.Fatalf("ParseKey(%q) = %x, want an error", c.in, got)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the key: %v", err)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString(otherKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), maxKeyFile+2), 0o600); err != nil {
		t.Fatal(err)
	}
	const env = "HMACSIG_TEST_KEY"

	t.Setenv(env, hex.EncodeToString(testKey))
	if got, err := LoadKey(env, file); err != nil || !bytes.Equal(got, testKey) {
		t.Fatalf("from env: %x, %v", got, err)
	}
	t.Setenv(env, "")
	if got, err := LoadKey(env, file); err != nil || !bytes.Equal(got, otherKey) {
		t.Fatalf("env empty, from file: %x, %v", got, err)
	}
	if got, err := LoadKey("", file); err != nil || !bytes.Equal(got, otherKey) {
		t.Fatalf("file only: %x, %v", got, err)
	}
	for name, c := range map[string][2]string{
		"env unset, no file": {env, ""},
		"nothing named":      {"", ""},
		"missing file":       {"", filepath.Join(dir, "absent")},
		"file too large":     {"", big},
	} {
		if got, err := LoadKey(c[0], c[1]); err == nil {
			t.Errorf("%s: LoadKey = %x, want an error", name, got)
		}
	}
	t.Setenv(env, "zz"+hex.EncodeToString(testKey[:20]))
	if _, err := LoadKey(env, file); err == nil || !strings.Contains(err.Error(), env) ||
		strings.Contains(err.Error(), hex.EncodeToString(testKey[:20])) {
		t.Fatalf("bad env key: %v (must name the variable, never the value)", err)
	}
}

func hexLower(b []byte) string { return hex.EncodeToString(b) }
func b64(b []byte) string      { return base64.StdEncoding.EncodeToString(b) }
func b64url(b []byte) string   { return base64.RawURLEncoding.EncodeToString(b) }
