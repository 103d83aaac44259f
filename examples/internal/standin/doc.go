// Package standin holds small stand-ins for the systems outside cellgate
// that the reference topology talks to, so that the examples run on a
// laptop with nothing else installed:
//
//	Cell         a zone's application: echoes the verified passport claims
//	             and offers POST /login, which creates a session through the
//	             signed session storage API and sets the session cookie
//	FUS          a zone's file upload service: hands out presigned URLs
//	ObjectStore  cloud storage: honours its own presigned (hmacsig) PUT and
//	             GET URLs and keeps objects in a directory
//
// None of them is part of cellgate, and none is fit for production: they
// stand for a team's own services and for S3, Azure Blob or GCS.
package standin
