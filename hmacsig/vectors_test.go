package hmacsig

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// vectorFile is the copy of ../shared/testdata/uri-integrity-vectors.json,
// byte for byte (CI compares them).
const vectorFile = "testdata/uri-integrity-vectors.json"

type vectorKey struct {
	Kid    string `json:"kid"`
	KeyHex string `json:"key_hex"`
}

type vectors struct {
	Vectors []struct {
		Name         string `json:"name"`
		KeyHex       string `json:"key_hex"`
		Kid          string `json:"kid"`
		Method       string `json:"method"`
		Path         string `json:"path"`
		Query        string `json:"query"`
		Now          int64  `json:"now"`
		StringToSign string `json:"string_to_sign"`
		Sig          string `json:"sig"`
	} `json:"vectors"`
	ValidTargets []targetCase `json:"valid_targets"`
	Invalid      []targetCase `json:"invalid"`
}

type targetCase struct {
	Name   string      `json:"name"`
	Keys   []vectorKey `json:"keys"`
	Method string      `json:"method"`
	Target string      `json:"target"`
	Now    int64       `json:"now"`
	Code   *string     `json:"code"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	f, err := os.Open(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v vectors
	if err := json.NewDecoder(f).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 || len(v.ValidTargets) == 0 || len(v.Invalid) == 0 {
		t.Fatalf("%s: a section is empty", vectorFile)
	}
	return v
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixedClock(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

// verifierFor builds the verifier a case describes: named keys by kid,
// unnamed ones as Current then Previous.
func verifierFor(t testing.TB, keys []vectorKey, now int64) *Verifier {
	t.Helper()
	var ks Keys
	for _, k := range keys {
		key := mustHex(t, k.KeyHex)
		switch {
		case k.Kid != "":
			if ks.ByID == nil {
				ks.ByID = map[string][]byte{}
			}
			ks.ByID[k.Kid] = key
		case ks.Current == nil:
			ks.Current = key
		case ks.Previous == nil:
			ks.Previous = key
		default:
			t.Fatal("more than two unnamed keys")
		}
	}
	v, err := NewVerifier(ks, WithClock(fixedClock(now)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func request(method, target string) *http.Request {
	return &http.Request{Method: method, RequestURI: target}
}

func TestVectors(t *testing.T) {
	for _, c := range loadVectors(t).Vectors {
		t.Run(c.Name, func(t *testing.T) {
			s := getScratch()
			defer putScratch(s)
			if _, err := s.canonicalise(c.Method, c.Path, c.Query); err != nil {
				t.Fatal(err)
			}
			if got := string(s.sts); got != c.StringToSign {
				t.Fatalf("string to sign\n got %q\nwant %q", got, c.StringToSign)
			}
			k := newMACKey("", mustHex(t, c.KeyHex))
			k.sum(&s.sum, s.sts)
			if got := hex.EncodeToString(s.sum[:]); got != c.Sig {
				t.Fatalf("sig = %s, want %s", got, c.Sig)
			}

			v := verifierFor(t, []vectorKey{{Kid: c.Kid, KeyHex: c.KeyHex}}, c.Now)
			target := c.Path + "?" + c.Query + "&sig=" + c.Sig
			if err := v.Verify(request(c.Method, target)); err != nil {
				t.Fatalf("Verify(%s %s) = %v", c.Method, target, err)
			}

			// Our own signer, given the vector's URL without its signed
			// parameters, must produce the same signature.
			if c.Kid == "" && c.Query == "expires_at=1893456000" {
				opts := []SignerOption{WithClock(fixedClock(c.Now))}
				sg, err := NewSigner(mustHex(t, c.KeyHex), opts...)
				if err != nil {
					t.Fatal(err)
				}
				q, err := sg.sign(c.Method, c.Path, "", time.Duration(1893456000-c.Now)*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if want := c.Query + "&sig=" + c.Sig; q != want {
					t.Fatalf("Signer query = %q, want %q", q, want)
				}
			}
		})
	}
}

func TestValidTargets(t *testing.T) {
	for _, c := range loadVectors(t).ValidTargets {
		t.Run(c.Name, func(t *testing.T) {
			if c.Code != nil {
				t.Fatalf("valid target with code %q", *c.Code)
			}
			v := verifierFor(t, c.Keys, c.Now)
			if err := v.Verify(request(c.Method, c.Target)); err != nil {
				t.Fatalf("Verify = %v", err)
			}
		})
	}
}

func TestInvalidTargets(t *testing.T) {
	for _, c := range loadVectors(t).Invalid {
		t.Run(c.Name, func(t *testing.T) {
			if c.Code == nil {
				t.Fatal("invalid case without code")
			}
			v := verifierFor(t, c.Keys, c.Now)
			err := v.Verify(request(c.Method, c.Target))
			var p *edge.Problem
			if !errors.As(err, &p) {
				t.Fatalf("Verify = %v, want problem %s", err, *c.Code)
			}
			if p.Code() != *c.Code || p.Status() != http.StatusForbidden {
				t.Fatalf("Verify = %d %s (%v), want 403 %s", p.Status(), p.Code(), err, *c.Code)
			}
		})
	}
}
