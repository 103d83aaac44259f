package zone

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
)

// StaticDirectory is a Directory held in memory, for examples, tests and
// small fixed deployments.
type StaticDirectory struct {
	companies map[string]Zone
}

// NewStaticDirectory returns a directory of companies, keyed by company id.
// Every id must be valid (ValidCompanyID) and every zone valid (a zone name
// and an absolute http(s) web base URL). The map is copied.
func NewStaticDirectory(companies map[string]Zone) (*StaticDirectory, error) {
	d := &StaticDirectory{companies: make(map[string]Zone, len(companies))}
	for id, z := range companies {
		if !ValidCompanyID(id) {
			return nil, fmt.Errorf("zone: static directory: invalid company id %q", id)
		}
		if err := validateZone(z); err != nil {
			return nil, fmt.Errorf("zone: static directory: company %s: %w", id, err)
		}
		d.companies[id] = z
	}
	return d, nil
}

// ReadStaticDirectory reads a directory from JSON: an object mapping
// company ids to zones,
//
//	{"1001": {"zone": "us01", "web_base_url": "https://us01.procore.com"}}
//
// Unknown fields are errors, so a typo cannot silently drop a zone.
func ReadStaticDirectory(r io.Reader) (*StaticDirectory, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var companies map[string]Zone
	if err := dec.Decode(&companies); err != nil {
		return nil, fmt.Errorf("zone: static directory: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("zone: static directory: data after the JSON object")
	}
	return NewStaticDirectory(companies)
}

// LoadStaticDirectory reads a directory from the JSON file at path (see
// ReadStaticDirectory).
func LoadStaticDirectory(path string) (*StaticDirectory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zone: static directory: %w", err)
	}
	defer f.Close()
	return ReadStaticDirectory(f)
}

// Lookup implements Directory.
func (d *StaticDirectory) Lookup(_ context.Context, company string) (Zone, error) {
	z, ok := d.companies[company]
	if !ok {
		return Zone{}, fmt.Errorf("zone: company %s: %w", company, ErrUnknownCompany)
	}
	return z, nil
}

// validateZone checks what a directory says about a zone before anyone
// believes it: a valid name and an absolute http(s) web base URL with
// nothing but scheme, host and path.
func validateZone(z Zone) error {
	if !ValidZoneName(z.Name) {
		return fmt.Errorf("invalid zone name %q", z.Name)
	}
	u, err := url.Parse(z.WebBaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("zone %s: invalid web base URL", z.Name)
	}
	return nil
}
