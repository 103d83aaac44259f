package zone

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/cellgate/cellgate/internal/strictjson"
)

// MaxDirectoryBytes bounds the JSON document of ReadStaticDirectory and
// LoadStaticDirectory (about 3.5 million companies at 75 bytes each).
const MaxDirectoryBytes = 256 << 20

// StaticDirectory is a Directory held in memory, for examples, tests and
// small fixed deployments.
type StaticDirectory struct {
	companies map[string]Zone
}

// NewStaticDirectory returns a directory of companies, keyed by company id.
// Every id must pass the company id check (ValidCompanyID unless
// WithCompanyValidator says otherwise, for UUID or slug tenants) and every zone must
// be valid (a zone name and an absolute http(s) web base URL). The map is
// copied. Options (StaticDirectoryOption): WithCompanyValidator.
func NewStaticDirectory(companies map[string]Zone, opts ...StaticDirectoryOption) (*StaticDirectory, error) {
	c, err := newConfig("NewStaticDirectory", opts, StaticDirectoryOption.staticDirectoryOption)
	if err != nil {
		return nil, err
	}
	return newStaticDirectory(companies, c)
}

func newStaticDirectory(companies map[string]Zone, c *config) (*StaticDirectory, error) {
	d := &StaticDirectory{companies: make(map[string]Zone, len(companies))}
	for id, z := range companies {
		if !c.validID(id) {
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
//	{"1001": {"zone": "us01", "web_base_url": "https://us01.example.com"},
//	 "2002": {"zone": "uk01", "web_base_url": "https://uk01.example.com", "residency": "uk"}}
//
// "residency" is optional (see Zone.Residency).
//
// It is read strictly, so that a typo cannot silently drop or move a zone:
// unknown fields, a company or a field named twice, `null`, invalid UTF-8,
// data after the object and a document over MaxDirectoryBytes are errors.
// Options (StaticDirectoryOption): WithCompanyValidator.
func ReadStaticDirectory(r io.Reader, opts ...StaticDirectoryOption) (*StaticDirectory, error) {
	c, err := newConfig("ReadStaticDirectory", opts, StaticDirectoryOption.staticDirectoryOption)
	if err != nil {
		return nil, err
	}
	return readStaticDirectory(r, c)
}

func readStaticDirectory(r io.Reader, c *config) (*StaticDirectory, error) {
	var companies map[string]Zone
	if err := strictjson.Decode(r, MaxDirectoryBytes, &companies); err != nil {
		return nil, fmt.Errorf("zone: static directory: %w", err)
	}
	return newStaticDirectory(companies, c)
}

// LoadStaticDirectory reads a directory from the JSON file at path (see
// ReadStaticDirectory). Options (StaticDirectoryOption): WithCompanyValidator.
func LoadStaticDirectory(path string, opts ...StaticDirectoryOption) (*StaticDirectory, error) {
	c, err := newConfig("LoadStaticDirectory", opts, StaticDirectoryOption.staticDirectoryOption)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zone: static directory: %w", err)
	}
	defer f.Close()
	return readStaticDirectory(f, c)
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
	if z.Residency != "" && !ValidZoneName(z.Residency) {
		return fmt.Errorf("zone %s: invalid residency region %q", z.Name, z.Residency)
	}
	return nil
}
