package upload

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cellgate/cellgate/zone"
)

// Default route patterns of the upload service, for http.ServeMux; see
// WithPatterns for others. The wildcard names are the ones ParseParams reads.
const (
	// PatternUpload is a standard upload: the whole file in one PUT.
	PatternUpload = "PUT /rest/v2.1/companies/{companyId}/projects/{projectId}/uploads/{uploadId}"
	// PatternPart is one part of a segmented (multipart) upload.
	PatternPart = "PUT /rest/v2.1/companies/{companyId}/projects/{projectId}/uploads/{uploadId}/parts/{partNumber}"
	// PatternHealth answers liveness probes.
	PatternHealth = "GET /rest/v2.1/uploads/health"
)

// MaxPartNumber is the highest part number, S3's limit.
const MaxPartNumber = 10000

// Params are the validated parameters of one upload request.
type Params struct {
	// CompanyID follows the company id rule (decimal by default; see
	// WithCompanyIDRule); ProjectID is a decimal id.
	CompanyID, ProjectID string
	// UploadID is 1–128 of A-Z a-z 0-9 _ -.
	UploadID string
	// PartNumber is 1–10000 for a part, 0 for a standard upload.
	PartNumber int
	// Size is the exact number of bytes the client declared and will send.
	Size int64
}

// Standard reports whether this is a standard (single PUT) upload rather
// than one part of a segmented upload.
func (p Params) Standard() bool { return p.PartNumber == 0 }

// ParseParams validates an upload request routed by a pattern with the
// wildcards of PatternUpload or PatternPart without reading its body: the
// ids in the path, the part number (when the pattern has {partNumber}), and
// a Content-Length of at most maxSize. validCompany is the company id rule,
// zone.ValidCompanyID when nil; "", "." and ".." are refused whatever it
// says. Its errors are problems: zone.ErrCompanyInvalid, ErrProjectInvalid,
// ErrUploadIDInvalid, ErrPartNumberInvalid (400), ErrLengthRequired (411),
// ErrTooLarge (413).
func ParseParams(r *http.Request, maxSize int64, validCompany func(string) bool) (Params, error) {
	p := Params{
		CompanyID: r.PathValue("companyId"),
		ProjectID: r.PathValue("projectId"),
		UploadID:  r.PathValue("uploadId"),
		Size:      r.ContentLength,
	}
	if err := p.validIDs(validCompany); err != nil {
		return Params{}, err
	}
	if part := r.PathValue("partNumber"); part != "" || strings.Contains(r.Pattern, "{partNumber}") {
		n, ok := parsePartNumber(part)
		if !ok {
			return Params{}, ErrPartNumberInvalid
		}
		p.PartNumber = n
	}
	// -1 is a chunked or otherwise unknown length: storage would refuse it,
	// so refuse it before the client sends a byte.
	if p.Size < 0 {
		return Params{}, ErrLengthRequired
	}
	if p.Size > maxSize {
		return Params{}, ErrTooLarge
	}
	return p, nil
}

// validIDs checks the company, project and upload ids and the part number
// (0 for a standard upload): the rules of ParseParams, which Client.Target
// applies again so that no caller can name an empty, dotted or slashed
// segment in a FUS path.
func (p Params) validIDs(validCompany func(string) bool) error {
	if validCompany == nil {
		validCompany = zone.ValidCompanyID
	}
	switch {
	case p.CompanyID == "" || p.CompanyID == "." || p.CompanyID == ".." || !validCompany(p.CompanyID):
		return zone.ErrCompanyInvalid
	case !validDecimalID(p.ProjectID):
		return ErrProjectInvalid
	case !ValidUploadID(p.UploadID):
		return ErrUploadIDInvalid
	case p.PartNumber < 0 || p.PartNumber > MaxPartNumber:
		return ErrPartNumberInvalid
	}
	return nil
}

// ValidUploadID reports whether id is 1–128 of A-Z a-z 0-9 _ -.
func ValidUploadID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// validDecimalID is the rule of company ids, applied to project ids: 1 to
// 19 digits, no sign, no leading zero.
func validDecimalID(id string) bool { return zone.ValidCompanyID(id) }

// parsePartNumber accepts 1 to MaxPartNumber written plainly: no sign, no
// leading zero, so one part has one spelling.
func parsePartNumber(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= MaxPartNumber
}
