// Package uploadtest provides an in-process file upload service (FUS) for
// tests and examples of package upload: the zone-side service that answers
// where an upload's bytes go. Storage itself is never faked here; point
// the presign function at a real peer (MinIO, Azurite) or a recorder.
package uploadtest
