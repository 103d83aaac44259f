package reference

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/cellgate/cellgate/zone"
)

// directoryJSON places companies 1, 2 and 3 in zones us01, us02 and uk01,
// and company 4, which admits clients in the UK only (policies.json), in
// uk01; each has the residency of its zone.
//
//go:embed directory.json
var directoryJSON []byte

// Zones are the zones of the reference topology, in banner order.
var Zones = []string{"us01", "us02", "uk01"}

// EmbeddedDirectory returns the examples' zone directory (companies 1, 2
// and 3 in us01, us02 and uk01) behind a CachingDirectory, with each zone's
// web_base_url replaced by webBaseURLs[zone] where that is set: a topology
// listening on other ports than 8081–8083 points clients at its own zone
// gateways. opts are further options of the CachingDirectory.
func EmbeddedDirectory(webBaseURLs map[string]string, opts ...zone.CacheOption) (*zone.CachingDirectory, error) {
	var companies map[string]zone.Zone
	if err := json.Unmarshal(directoryJSON, &companies); err != nil {
		return nil, fmt.Errorf("reference: directory: %w", err)
	}
	for id, z := range companies {
		if u, ok := webBaseURLs[z.Name]; ok {
			z.WebBaseURL = u
			companies[id] = z
		}
	}
	dir, err := zone.NewStaticDirectory(companies)
	if err != nil {
		return nil, fmt.Errorf("reference: directory: %w", err)
	}
	return zone.NewCachingDirectory(dir, opts...)
}

// LoadDirectory returns the zone directory in the JSON file at path, or the
// embedded one of the examples when path is empty, behind a CachingDirectory
// as on every hot path. opts are further options of the CachingDirectory.
func LoadDirectory(path string, opts ...zone.CacheOption) (*zone.CachingDirectory, error) {
	var (
		dir *zone.StaticDirectory
		err error
	)
	if path == "" {
		dir, err = zone.ReadStaticDirectory(bytes.NewReader(directoryJSON))
	} else {
		dir, err = zone.LoadStaticDirectory(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reference: directory: %w", err)
	}
	return zone.NewCachingDirectory(dir, opts...)
}
