package reference

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/cellgate/cellgate/zone"
)

// directoryJSON places companies 1, 2 and 3 in zones us01, us02 and uk01.
//
//go:embed directory.json
var directoryJSON []byte

// Zones are the zones of the reference topology, in banner order.
var Zones = []string{"us01", "us02", "uk01"}

// LoadDirectory returns the zone directory in the JSON file at path, or the
// embedded one of the examples when path is empty, behind a CachingDirectory
// as on every hot path.
func LoadDirectory(path string) (*zone.CachingDirectory, error) {
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
	return zone.NewCachingDirectory(dir)
}
