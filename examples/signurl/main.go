// Command signurl prints a URL signed with an hmacsig key, for the
// walkthrough of examples/topology and for trying any service that verifies
// URI integrity signatures:
//
//	signurl -key .cellgate/keys/upload.key PUT http://127.0.0.1:8084/rest/v2.1/companies/1/projects/7/uploads/hello
//
// With -body FILE the URL also binds that body through its Content-Digest
// (hmacsig SPEC.md, "Content digest"), as the session storage API requires
// for PUT; send the header that -content-digest FILE prints with it:
//
//	curl -X PUT --data-binary @s.json -H "Content-Digest: $(signurl -content-digest s.json)" \
//	  "$(signurl -key .cellgate/keys/sessions.key -body s.json PUT "http://127.0.0.1:8085/session?key=$KEY")"
//
// The key is read from the file given with -key, or from the environment
// variable given with -env when it is set; it is never printed.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cellgate/cellgate/hmacsig"
)

func main() {
	keyFile := flag.String("key", "", "file holding the key, hex or base64")
	keyEnv := flag.String("env", "", "environment variable holding the key; wins over -key when set")
	lifetime := flag.Duration("lifetime", 5*time.Minute, "how long the URL stays valid")
	kid := flag.String("kid", "", "key id to put in the URL, for verifiers with named keys")
	bodyFile := flag.String("body", "", "file holding the request body to bind (its Content-Digest is signed)")
	digestOf := flag.String("content-digest", "", "print the Content-Digest header value of this file and exit")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: signurl -key FILE [-lifetime 5m] [-kid ID] [-body FILE] METHOD URL\n       signurl -content-digest FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *digestOf != "" {
		digest, err := contentDigest(*digestOf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "signurl:", err)
			os.Exit(1)
		}
		fmt.Println(digest)
		return
	}
	if flag.NArg() != 2 || (*keyFile == "" && *keyEnv == "") {
		flag.Usage()
		os.Exit(2)
	}
	digest := ""
	if *bodyFile != "" {
		var err error
		if digest, err = contentDigest(*bodyFile); err != nil {
			fmt.Fprintln(os.Stderr, "signurl:", err)
			os.Exit(1)
		}
	}
	signed, err := sign(*keyEnv, *keyFile, *kid, digest, flag.Arg(0), flag.Arg(1), *lifetime)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signurl:", err)
		os.Exit(1)
	}
	fmt.Println(signed)
}

// contentDigest returns the Content-Digest header value of the file's bytes.
func contentDigest(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha-256=:" + base64.StdEncoding.EncodeToString(h.Sum(nil)) + ":", nil
}

// sign returns rawURL signed for method until now + lifetime, binding the
// Content-Digest digest when it is not "".
func sign(keyEnv, keyFile, kid, digest, method, rawURL string, lifetime time.Duration) (string, error) {
	key, err := hmacsig.LoadKey(keyEnv, keyFile)
	if err != nil {
		return "", err
	}
	s, err := hmacsig.NewSigner(key, hmacsig.WithKeyID(kid)) // "": no kid

	if err != nil {
		return "", err
	}
	if digest == "" {
		return s.SignURL(strings.ToUpper(method), rawURL, lifetime)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	signed, err := s.SignContent(strings.ToUpper(method), u, digest, lifetime)
	if err != nil {
		return "", err
	}
	return signed.String(), nil
}
