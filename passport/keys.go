package passport

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Algorithms a passport may be signed with. Nothing else is ever accepted:
// not "none", not HMAC.
const (
	EdDSA = "EdDSA" // Ed25519, the default
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
)

// SigningKey is a private key an Issuer signs with: an ed25519.PrivateKey
// (EdDSA) or an *ecdsa.PrivateKey on P-256 (ES256).
type SigningKey struct {
	// ID is the key's kid: 1-64 characters of A-Z a-z 0-9 - _ .
	ID string
	// Key is the private key.
	Key crypto.Signer
}

// PublicKey is a key a Verifier accepts: an ed25519.PublicKey or an
// *ecdsa.PublicKey on P-256, under its kid.
type PublicKey struct {
	ID  string
	Key crypto.PublicKey
}

// GenerateKey returns a new signing key for alg (EdDSA or ES256) whose ID is
// its RFC 7638 thumbprint.
func GenerateKey(alg string) (SigningKey, error) {
	var k crypto.Signer
	switch alg {
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return SigningKey{}, fmt.Errorf("passport: generate %s key: %w", alg, err)
		}
		k = priv
	case ES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return SigningKey{}, fmt.Errorf("passport: generate %s key: %w", alg, err)
		}
		k = priv
	default:
		return SigningKey{}, fmt.Errorf("passport: generate key: unsupported algorithm %q", alg)
	}
	jwk, err := toJWK(PublicKey{Key: k.Public()})
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{ID: jwk.thumbprint(), Key: k}, nil
}

// Public returns the public half of k.
func (k SigningKey) Public() PublicKey { return PublicKey{ID: k.ID, Key: k.Key.Public()} }

// Alg returns the algorithm of k's key type, or "" when it is not one this
// package signs with.
func (k PublicKey) Alg() string {
	switch pub := k.Key.(type) {
	case ed25519.PublicKey:
		if len(pub) == ed25519.PublicKeySize {
			return EdDSA
		}
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			return ES256
		}
	}
	return ""
}

func (k SigningKey) validate() error {
	if k.Key == nil {
		return fmt.Errorf("passport: signing key %q: no key", k.ID)
	}
	return k.Public().validate()
}

func (k PublicKey) validate() error {
	if !validKID(k.ID) {
		return fmt.Errorf("passport: key id %q: want 1-64 characters of A-Z a-z 0-9 and - _ . (dash, underscore, dot)", k.ID)
	}
	if k.Alg() == "" {
		return fmt.Errorf("passport: key %s: want an Ed25519 or P-256 key, got %T", k.ID, k.Key)
	}
	return nil
}

// validKID keeps key ids to a safe alphabet, so a kid can never carry a
// path, a URL or a log injection into anything that handles it.
func validKID(kid string) bool {
	if kid == "" || len(kid) > 64 {
		return false
	}
	for i := range len(kid) {
		c := kid[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// JWK is one public key of a JSON Web Key Set (RFC 7517, RFC 8037 for OKP).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

var b64 = base64.RawURLEncoding

func toJWK(k PublicKey) (JWK, error) {
	switch pub := k.Key.(type) {
	case ed25519.PublicKey:
		return JWK{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(pub), Kid: k.ID, Use: "sig", Alg: EdDSA}, nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			break
		}
		raw, err := pub.Bytes() // 0x04 || X || Y, 32 bytes each
		if err != nil {
			return JWK{}, fmt.Errorf("passport: key %s: %w", k.ID, err)
		}
		return JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(raw[1:33]), Y: b64.EncodeToString(raw[33:]),
			Kid: k.ID, Use: "sig", Alg: ES256}, nil
	}
	return JWK{}, fmt.Errorf("passport: key %s: unsupported key type %T", k.ID, k.Key)
}

// PublicKey decodes j. It refuses key types, curves and algorithms this
// package does not accept, so a key can only ever verify its own algorithm.
func (j JWK) PublicKey() (PublicKey, error) {
	if j.Use != "" && j.Use != "sig" {
		return PublicKey{}, fmt.Errorf("passport: jwk %q: use %q is not sig", j.Kid, j.Use)
	}
	var k PublicKey
	switch {
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (j.Alg == "" || j.Alg == EdDSA):
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("passport: jwk %q: bad Ed25519 x", j.Kid)
		}
		k = PublicKey{ID: j.Kid, Key: ed25519.PublicKey(x)}
	case j.Kty == "EC" && j.Crv == "P-256" && (j.Alg == "" || j.Alg == ES256):
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return PublicKey{}, fmt.Errorf("passport: jwk %q: bad P-256 coordinates", j.Kid)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return PublicKey{}, fmt.Errorf("passport: jwk %q: %w", j.Kid, err)
		}
		k = PublicKey{ID: j.Kid, Key: pub}
	default:
		return PublicKey{}, fmt.Errorf("passport: jwk %q: unsupported kty %q crv %q alg %q", j.Kid, j.Kty, j.Crv, j.Alg)
	}
	if err := k.validate(); err != nil {
		return PublicKey{}, err
	}
	return k, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of j, base64url.
func (j JWK) thumbprint() string {
	var members any
	if j.Kty == "OKP" {
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{j.Crv, j.Kty, j.X}
	} else {
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Crv, j.Kty, j.X, j.Y}
	}
	raw, _ := json.Marshal(members) // lexicographic member order, no spaces
	sum := sha256.Sum256(raw)
	return b64.EncodeToString(sum[:])
}

// errNoKey is the cause of a passport whose kid is not in the key set.
var errNoKey = errors.New("passport: no key for kid")
