package hmacsig

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
)

// MinKeySize is the shortest key, in bytes, that NewSigner, NewVerifier and
// ParseKey accept.
const MinKeySize = 32

// macKey computes HMAC-SHA256 under one key. hmac.New hashes the key and
// allocates its state, so each key keeps a pool of ready hashes and a
// verification only resets one.
type macKey struct {
	name string // reported by KeyIDFromContext
	pool sync.Pool
}

func newMACKey(name string, key []byte) *macKey {
	key = bytes.Clone(key) // the caller may reuse or zero its slice
	m := &macKey{name: name}
	m.pool.New = func() any { return hmac.New(sha256.New, key) }
	return m
}

// sum writes the MAC of msg into dst.
func (m *macKey) sum(dst *[32]byte, msg []byte) {
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	h.Sum(dst[:0])
	m.pool.Put(h)
}

func checkKeySize(what string, key []byte) error {
	if len(key) < MinKeySize {
		return fmt.Errorf("hmacsig: %s has %d bytes, want at least %d", what, len(key), MinKeySize)
	}
	return nil
}

// ParseKey decodes a key written as hex (either case) or base64 (standard
// or URL alphabet, padded or not), surrounding white space ignored, and
// checks that it has at least [MinKeySize] bytes. Hex is tried first: a text
// that is valid hex is read as hex. The key is used as the decoded bytes,
// never as its text. Errors never contain the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("hmacsig: key is empty")
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		key = nil
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if k, err := enc.DecodeString(s); err == nil {
				key = k
				break
			}
		}
		if key == nil {
			return nil, errors.New("hmacsig: key is neither hex nor base64")
		}
	}
	if err := checkKeySize("key", key); err != nil {
		return nil, err
	}
	return key, nil
}

// maxKeyFile bounds what LoadKey reads: a key file holds a line of text.
const maxKeyFile = 4 << 10

// LoadKey reads a key with [ParseKey] from the environment variable envVar
// when it is set and not empty, otherwise from file, for the mains of
// services and examples:
//
//	key, err := hmacsig.LoadKey("UPLOAD_SIGNING_KEY", "/run/secrets/upload_signing_key")
//
// Either name may be empty to skip that source. Errors name the variable or
// file, never the key.
func LoadKey(envVar, file string) ([]byte, error) {
	if envVar != "" {
		if s := os.Getenv(envVar); s != "" {
			key, err := ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("hmacsig: key from $%s: %w", envVar, err)
			}
			return key, nil
		}
	}
	if file == "" {
		if envVar == "" {
			return nil, errors.New("hmacsig: load key: no variable or file named")
		}
		return nil, fmt.Errorf("hmacsig: load key: $%s is not set", envVar)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("hmacsig: load key: %w", err)
	}
	defer f.Close()
	var buf [maxKeyFile + 1]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("hmacsig: read key file %s: %w", file, err)
	}
	if n > maxKeyFile {
		return nil, fmt.Errorf("hmacsig: key file %s is larger than %d bytes", file, maxKeyFile)
	}
	key, err := ParseKey(string(buf[:n]))
	if err != nil {
		return nil, fmt.Errorf("hmacsig: key file %s: %w", file, err)
	}
	return key, nil
}
