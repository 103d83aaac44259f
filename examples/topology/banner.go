package main

import (
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
)

// banner prints the hosts of the running topology and a short walkthrough
// whose commands work as printed, from the repository root.
func banner(w io.Writer, s started) {
	fmt.Fprintln(w, "cellgate reference topology")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := []struct{ name, what string }{
		{"api", "cell router: company → zone, GET /rest/v1.0/company_base_url, CORS"},
		{"api-tls", "the API host over TLS ≥ 1.2, self-signed (curl -k)"},
		{"us01", "gateway of zone us01: passports, /webclients/, strangler"},
		{"us02", "gateway of zone us02"},
		{"uk01", "gateway of zone uk01"},
		{"us01-tls", "zone us01's web front over TLS: its pages call api-tls"},
		{"us02-tls", "zone us02's web front over TLS"},
		{"uk01-tls", "zone uk01's web front over TLS"},
		{"storage", "file upload: signed PUTs streamed to storage"},
		{"sessions", "session storage API, every call signed"},
		{"objects", "stand-in object store (S3's place), presigned URLs only"},
	}
	for _, r := range rows {
		if u, ok := s.URLs[r.name]; ok {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, u, r.what)
		}
	}
	if s.S3 != "" {
		fmt.Fprintf(tw, "  s3\t%s\tS3 mode: uploads go to this bucket, SigV4-presigned by the stand-in FUS\n", s.S3)
	}
	fmt.Fprintf(tw, "  authentication\t(no port)\tinternal only, reached through edge.Binding\n")
	fmt.Fprintf(tw, "  keys\t%s\tgenerated once, mode 0600, never printed\n", s.Keys)
	if s.Admin != "" {
		fmt.Fprintf(tw, "  admin\t%s\tGET /metrics for Prometheus (not public): curl -s %s/metrics | grep cellgate_\n", s.Admin, s.Admin)
	}
	tw.Flush()

	api, us01, storage, sessions := s.URLs["api"], s.URLs["us01"], s.URLs["storage"], s.URLs["sessions"]
	fmt.Fprintf(w, `
Walkthrough (from the repository root, in another terminal; more in the README):
  curl -s -H 'Procore-Company-Id: 2' %[1]s/rest/v1.0/company_base_url
  curl -s -c /tmp/cellgate-jar.txt -H 'Procore-Company-Id: 1' -d user=alice %[1]s/login | tee /tmp/cellgate-login.json
  curl -s -b /tmp/cellgate-jar.txt -H 'Procore-Company-Id: 1' %[1]s/rest/v1.0/me
  curl -s -b /tmp/cellgate-jar.txt -H 'Procore-Company-Id: 1' %[1]s/rest/v1.0/projects/7/rfis
  open %[2]s/webclients/
  SID=$(sed -E 's/.*"session_id":"([^"]+)".*/\1/' /tmp/cellgate-login.json)
  curl -s -o /dev/null -w '%%{http_code}\n' -X POST "$(go -C examples run ./signurl -key %[5]s/sessions.key POST %[4]s/revoke/session/$SID)"
  curl -s -b /tmp/cellgate-jar.txt -H 'Procore-Company-Id: 1' %[1]s/rest/v1.0/me
  head -c 1048576 /dev/urandom > /tmp/cellgate-upload.bin
  curl -s -T /tmp/cellgate-upload.bin "$(go -C examples run ./signurl -key %[5]s/upload.key PUT %[3]s/rest/v2.1/companies/1/projects/7/uploads/report-1)"
%[6]s
Stop with Ctrl-C: in-flight requests and uploads are drained first.
`, api, us01, storage, sessions, s.Keys, readBack(s))
}

// readBack is the walkthrough's command that compares the stored upload
// with the file sent.
func readBack(s started) string {
	if s.S3 == "" {
		return fmt.Sprintf(`  curl -s "$(go -C examples run ./signurl -key %s/objects.key GET %s/objects/us01/1/7/report-1)" | cmp - /tmp/cellgate-upload.bin && echo identical`,
			s.Keys, s.URLs["objects"])
	}
	// The AWS CLI reads the same AWS_* variables as the topology.
	endpoint, bucket := path.Split(s.S3)
	return fmt.Sprintf(`  aws --endpoint-url %s s3 cp s3://%s/us01/1/7/report-1 - | cmp - /tmp/cellgate-upload.bin && echo identical`,
		strings.TrimSuffix(endpoint, "/"), bucket)
}
