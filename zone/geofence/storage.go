package geofence

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// StorageRule says where the uploads of one region may be stored.
type StorageRule struct {
	// Hosts are the storage hosts of the region: an exact name
	// ("uk-uploads.s3.eu-west-2.amazonaws.com", "ukuploads.blob.core.windows.net"),
	// a name and port ("minio.uk.internal:9000"), or "*." and a suffix
	// ("*.s3.eu-west-2.amazonaws.com", any name under it at any depth).
	// Names compare case-insensitively. This list narrows, per region,
	// what upload.WithStorageHosts allows for every zone.
	Hosts []string
	// S3Regions are the AWS regions ("eu-west-2") the region's S3 storage
	// is in. A target on amazonaws.com must name one of them in its host
	// (bucket.s3.eu-west-2.amazonaws.com; the global s3.amazonaws.com names
	// none and is refused) and be signed for one of them in X-Amz-Credential
	// (…/20261207/eu-west-2/s3/aws4_request); a target elsewhere (MinIO)
	// that carries X-Amz-Credential must be signed for one of them too.
	S3Regions []string
}

// StorageCheck keeps uploads in the region of their zone: give Check to
// upload.NewClient with upload.WithTargetCheck. The file upload service of
// a zone answers where an upload's bytes go; a target outside the zone's
// region is refused with 502 upload_out_of_region before a byte is sent.
type StorageCheck struct {
	res   *Residency
	rules map[Region]storageRule
	obs   Observer
}

type storageRule struct {
	exact    []string // host or host:port, lower case
	suffixes []string // ".suffix", lower case
	s3       []string
}

// NewStorageCheck returns the check of each zone's storage targets against
// the rule of the zone's region (res.Region). A zone of a region without a
// rule gets no upload at all. Options: WithObserver.
func NewStorageCheck(res *Residency, rules map[Region]StorageRule, opts ...StorageOption) (*StorageCheck, error) {
	c, err := newConfig("NewStorageCheck", opts, StorageOption.storageOption)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("geofence: NewStorageCheck: nil Residency")
	}
	s := &StorageCheck{res: res, rules: make(map[Region]storageRule, len(rules)), obs: c.observer}
	for region, r := range rules {
		if !validRegion(region) {
			return nil, fmt.Errorf("geofence: NewStorageCheck: invalid region %q", region)
		}
		if len(r.Hosts) == 0 {
			return nil, fmt.Errorf("geofence: NewStorageCheck: region %s: no storage host", region)
		}
		var sr storageRule
		for _, h := range r.Hosts {
			h = strings.ToLower(h)
			switch {
			case strings.HasPrefix(h, "*.") && validHostName(h[2:]):
				sr.suffixes = append(sr.suffixes, h[1:])
			case validHostPort(h):
				sr.exact = append(sr.exact, h)
			default:
				return nil, fmt.Errorf("geofence: NewStorageCheck: region %s: invalid storage host %q", region, h)
			}
		}
		for _, s3 := range r.S3Regions {
			if !isAWSRegion(s3) {
				return nil, fmt.Errorf("geofence: NewStorageCheck: region %s: invalid S3 region %q", region, s3)
			}
			sr.s3 = append(sr.s3, s3)
		}
		s.rules[region] = sr
	}
	return s, nil
}

// Check implements upload.TargetCheck: nil when target may receive an
// upload of zone, else ErrUploadOutOfRegion, whose cause names the zone,
// the region and the target's host, never its path or query.
func (s *StorageCheck) Check(zone string, target *url.URL) error {
	region, ok := s.res.Region(zone)
	err := s.check(region, ok, target)
	if s.obs != nil {
		decision := DecisionUploadAllowed
		if err != nil {
			decision = DecisionUploadOutOfRegion
		}
		s.obs.GeofenceDecision(context.Background(), string(region), decision)
	}
	if err != nil {
		return ErrUploadOutOfRegion.WithCause(fmt.Errorf("geofence: upload of zone %s to %s: %w", zone, target.Host, err))
	}
	return nil
}

func (s *StorageCheck) check(region Region, known bool, target *url.URL) error {
	if !known {
		return errors.New("the zone has no region")
	}
	rule, ok := s.rules[region]
	if !ok {
		return fmt.Errorf("region %s has no storage", region)
	}
	host := strings.ToLower(target.Hostname())
	if !rule.allowsHost(host, target.Port(), target.Scheme) {
		return fmt.Errorf("not a storage host of region %s", region)
	}
	creds := credentials(target)
	if len(creds) > 1 {
		return errors.New("more than one X-Amz-Credential")
	}
	aws := host == "amazonaws.com" || strings.HasSuffix(host, ".amazonaws.com")
	if aws {
		r, ok := s3HostRegion(host)
		if !ok || !slices.Contains(rule.s3, r) {
			return fmt.Errorf("the S3 host names no region of %s", region)
		}
		if len(creds) == 0 {
			return errors.New("no X-Amz-Credential to check the signing region")
		}
	}
	if len(creds) == 1 {
		r, ok := credentialRegion(creds[0])
		if !ok || !slices.Contains(rule.s3, r) {
			return fmt.Errorf("X-Amz-Credential is signed for no region of %s", region)
		}
	}
	return nil
}

// allowsHost reports whether the rule lists the host name, with port when
// the target names one other than its scheme's default.
func (r storageRule) allowsHost(name, port, scheme string) bool {
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		if slices.Contains(r.exact, name) {
			return true
		}
		for _, suffix := range r.suffixes {
			if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
				return true
			}
		}
	}
	return port != "" && slices.Contains(r.exact, name+":"+port)
}

// credentials returns the values of X-Amz-Credential in any case of the
// name: S3 reads it case-sensitively, but a check that another spelling
// could pass would be no check.
func credentials(u *url.URL) []string {
	var out []string
	for k, vs := range u.Query() {
		if strings.EqualFold(k, "X-Amz-Credential") {
			out = append(out, vs...)
		}
	}
	return out
}

// credentialRegion reads the region of "AKID/20261207/eu-west-2/s3/aws4_request".
func credentialRegion(cred string) (string, bool) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" || !isAWSRegion(parts[2]) {
		return "", false
	}
	return parts[2], true
}

// s3HostRegion finds the one region an S3 host names: a label that is a
// region ("bucket.s3.eu-west-2.amazonaws.com", "s3.dualstack.eu-west-2…")
// or "s3-" and a region ("bucket.s3-eu-west-2.amazonaws.com"). None, or
// two different ones, is no region.
func s3HostRegion(host string) (string, bool) {
	labels := strings.Split(strings.TrimSuffix(host, ".amazonaws.com"), ".")
	found := ""
	for _, l := range labels {
		l = strings.TrimPrefix(l, "s3-")
		if !isAWSRegion(l) {
			continue
		}
		if found != "" && found != l {
			return "", false
		}
		found = l
	}
	return found, found != ""
}

// isAWSRegion matches the shape of an AWS region: "eu-west-2",
// "us-gov-west-1", "ap-southeast-3".
func isAWSRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 4 || len(parts[0]) != 2 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	last := parts[len(parts)-1]
	return last != "" && strings.Trim(last, "0123456789") == ""
}

func validHostName(h string) bool {
	if h == "" || len(h) > 253 || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	return strings.Trim(h, "abcdefghijklmnopqrstuvwxyz0123456789-.") == ""
}

func validHostPort(h string) bool {
	name, port, found := strings.Cut(h, ":")
	if !found {
		return validHostName(name)
	}
	return validHostName(name) && port != "" && strings.Trim(port, "0123456789") == "" && len(port) <= 5
}
