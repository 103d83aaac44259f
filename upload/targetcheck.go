package upload

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/cellgate/cellgate/edge"
)

// TargetCheck decides whether the storage target that the file upload
// service of zone answered may receive an upload, after the storage host
// and header allow-lists passed it: nil admits it, an error refuses it
// before a byte is sent. target is the presigned URL: a credential, which
// the check must never log or put in its error. An error that is an
// *edge.Problem is answered as it is (zone/geofence's StorageCheck.Check
// answers 502 upload_out_of_region); any other is a 502
// file_upload_service_unavailable.
type TargetCheck func(zone string, target *url.URL) error

// WithTargetCheck adds check to the checks of every storage target that
// [NewClient]'s Target returns (zone/geofence's StorageCheck.Check keeps
// uploads in the region of their zone). Default: no check beyond
// WithStorageHosts and WithStorageHeaders. Calls add checks, run in order;
// a nil check is an error.
func WithTargetCheck(check TargetCheck) ClientOption {
	return clientOpt{"WithTargetCheck", func(c *config) error {
		if check == nil {
			return errors.New("nil TargetCheck")
		}
		c.targetChecks = append(c.targetChecks, check)
		return nil
	}}
}

// checkTarget runs the checks of WithTargetCheck on t, for the upload
// uploadID of zone.
func (c *Client) checkTarget(zone, uploadID string, t *Target) error {
	for _, check := range c.targetChecks {
		if err := check(zone, t.URL); err != nil {
			var p *edge.Problem
			if errors.As(err, &p) {
				return err
			}
			return ErrFUSUnavailable.WithCause(fmt.Errorf("upload: FUS answer for %s: storage target refused: %w", uploadID, err))
		}
	}
	return nil
}
