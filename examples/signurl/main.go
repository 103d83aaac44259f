// Command signurl prints a URL signed with an hmacsig key, for the
// walkthrough of examples/topology and for trying any service that verifies
// URI integrity signatures:
//
//	signurl -key .cellgate/keys/upload.key PUT http://127.0.0.1:8084/rest/v2.1/companies/1/projects/7/uploads/hello
//
// The key is read from the file given with -key, or from the environment
// variable given with -env when it is set; it is never printed.
package main

import (
	"flag"
	"fmt"
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
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: signurl -key FILE [-lifetime 5m] [-kid ID] METHOD URL")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 || (*keyFile == "" && *keyEnv == "") {
		flag.Usage()
		os.Exit(2)
	}
	signed, err := sign(*keyEnv, *keyFile, *kid, flag.Arg(0), flag.Arg(1), *lifetime)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signurl:", err)
		os.Exit(1)
	}
	fmt.Println(signed)
}

// sign returns rawURL signed for method until now + lifetime.
func sign(keyEnv, keyFile, kid, method, rawURL string, lifetime time.Duration) (string, error) {
	key, err := hmacsig.LoadKey(keyEnv, keyFile)
	if err != nil {
		return "", err
	}
	var opts []hmacsig.Option
	if kid != "" {
		opts = append(opts, hmacsig.WithKeyID(kid))
	}
	s, err := hmacsig.NewSigner(key, opts...)
	if err != nil {
		return "", err
	}
	return s.SignURL(strings.ToUpper(method), rawURL, lifetime)
}
