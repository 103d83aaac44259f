package standin

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cellgate/cellgate/upload"
	"github.com/hashicorp/golang-lru/v2/expirable"
)

// S3Object returns the S3 object name of an upload, {zone}/{company}/{project}/{upload}:
// "us01/1/7/report-7". An upload id is unique only within its company and
// project, so both name the object: one company's upload never overwrites
// another's of the same id.
func S3Object(zoneName string, p upload.Params) string {
	return zoneName + "/" + p.CompanyID + "/" + p.ProjectID + "/" + p.UploadID
}

// Bounds of the FUS's memory of the multipart uploads it started: a part
// asked for after its upload was forgotten starts another multipart upload.
const (
	maxMultipartUploads = 10_000
	multipartMemory     = 24 * time.Hour
)

// presignS3 presigns PUTs to the bucket: the whole object, or a part of the
// multipart upload started for the upload id.
func presignS3(s3 *S3, zoneName string, lifetime time.Duration) presignFunc {
	m := &multipartUploads{s3: s3, ids: expirable.NewLRU[string, *multipartUpload](maxMultipartUploads, nil, multipartMemory)}
	return func(ctx context.Context, p upload.Params) (string, error) {
		object := S3Object(zoneName, p)
		var s3ID string
		if p.PartNumber > 0 {
			var err error
			if s3ID, err = m.id(ctx, object); err != nil {
				if _, rejected := errors.AsType[*S3Error](err); rejected {
					return "", upload.ErrStorageRejected.WithCause(err)
				}
				return "", upload.ErrStorageUnavailable.WithCause(err)
			}
		}
		return s3.PresignPut(object, p.PartNumber, s3ID, lifetime)
	}
}

// multipartUploads remembers the S3 upload id of each object whose parts
// are being uploaded.
type multipartUploads struct {
	s3  *S3
	mu  sync.Mutex // makes get-or-add atomic
	ids *expirable.LRU[string, *multipartUpload]
}

// multipartUpload is one object's upload id, created once: concurrent first
// parts wait on mu rather than start two uploads that would split the parts.
type multipartUpload struct {
	mu sync.Mutex
	id string // "" until created; a failed creation is retried by the next part
}

// id returns object's S3 upload id, creating the multipart upload if it has
// none yet.
func (m *multipartUploads) id(ctx context.Context, object string) (string, error) {
	m.mu.Lock()
	u, ok := m.ids.Get(object)
	if !ok {
		u = &multipartUpload{}
		m.ids.Add(object, u)
	}
	m.mu.Unlock()

	u.mu.Lock()
	defer u.mu.Unlock()
	if u.id == "" {
		id, err := m.s3.CreateMultipartUpload(ctx, object)
		if err != nil {
			return "", err
		}
		u.id = id
	}
	return u.id, nil
}
