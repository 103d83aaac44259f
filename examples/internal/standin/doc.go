// Package standin holds small stand-ins for the systems outside cellgate
// that the reference topology talks to, so that the examples run on a
// laptop with nothing else installed:
//
//	Cell         a zone's application: echoes the verified passport claims
//	             and offers POST /login, which creates a session through the
//	             signed session storage API and sets the session cookie
//	FUS          a zone's file upload service: hands out presigned URLs,
//	             for the ObjectStore or, in S3 mode, for a real bucket
//	ObjectStore  cloud storage: honours its own presigned (hmacsig) PUT and
//	             GET URLs and keeps objects in a directory
//	S3           what a FUS does with an AWS SDK, in the standard library:
//	             SigV4 presigned URLs (path-style) for S3 or MinIO, and
//	             starting multipart uploads
//
// None of them is part of cellgate, and none is fit for production: they
// stand for a team's own services and for S3, Azure Blob or GCS.
package standin
