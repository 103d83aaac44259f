// Package upload streams file uploads straight to cloud storage.
//
// A client PUTs a file (or one part of a segmented upload) to a URL that
// the origin signed with the upload key. The edge verifies the signature,
// resolves the company's zone, asks that zone's file upload service (FUS)
// for a presigned storage URL, and streams the bytes there: S3 (SigV4
// presigned), Azure Blob (SAS) or Google Cloud Storage (V4 signed URL).
// Nothing is buffered: memory per upload is fixed whatever the file's size.
//
// The package owns the upload handler (Handler), the FUS client (Client),
// upload parameter validation (ParseParams) and the upload span attributes
// (upload.company_id, upload.upload_id, upload.is_standard,
// upload.part_number, upload.fetch_cloud_storage_url_duration_ms,
// upload.stream_to_cloud_storage_duration_ms, upload.bytes_streamed).
//
// The smallest wiring:
//
//	fusSigner, _ := hmacsig.NewSigner(fusKey)
//	fus, _ := upload.NewClient(map[string]string{"us01": "https://fus.us01.internal"}, fusSigner,
//		upload.WithStorageHosts("*.s3.amazonaws.com"))
//	verifier, _ := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
//	h, _ := upload.New(verifier, directory, fus)
//	http.ListenAndServe(":8080", h) // with ReadHeaderTimeout, not ReadTimeout
//
// New serves PatternUpload and PatternPart unless WithPatterns names other
// routes with the same wildcards; company ids are decimal unless
// WithCompanyIDRule gives another rule. Each constructor takes its own
// option type (ClientOption, HandlerOption, ServiceOption), so an option it
// does not read does not compile; every HandlerOption is a ServiceOption,
// since New builds a Handler. An invalid value is an error naming the
// constructor and the option; zero, "" or nil means the default, and a
// feature is turned off by an option of its own (WithoutMinRate).
//
// # The FUS protocol
//
//	GET {fus}/companies/{companyId}/projects/{projectId}/uploads/{uploadId}/url[?part_number=N]
//	    signed with the FUS key; each id one segment, escaped (url.PathEscape)
//	200 {"url": "https://…presigned…", "headers": {"x-ms-blob-type": "BlockBlob"}}
//	404 → 404 upload_unknown; 409 → 409 upload_conflict; anything else → 502
//
// An upload id is unique only within its company and project: FUS must key
// the upload (and the object it presigns) by all three, so one company can
// never reach, or overwrite, another's upload of the same id.
//
// The answer comes from another service, so it is checked before any byte
// moves: the URL must point at a storage host listed with WithStorageHosts
// (required: "host[:port]" or "*.suffix" over https, "http://host:port" over
// plain http; IP literals such as 169.254.169.254 only when listed exactly;
// no user information); the storage transport then checks the address it
// dials, after resolution, so an allowed name that resolves to loopback, a
// private or link-local address (169.254.169.254) gets no connection unless
// WithStorageAddresses lists it (502 storage_target_refused); and FUS may
// name only the headers storage presigns
// need (WithStorageHeaders; never Authorization, Cookie, Proxy-*, Host or a
// framing or hop-by-hop header). Any other answer is 502
// file_upload_service_unavailable, logged with the storage host at most.
// The PUT carries the headers FUS names, the client's
// Content-MD5 and x-amz-checksum-* headers, and the client's Content-Type
// unless FUS names one; nothing else, because S3 and GCS refuse headers the
// presign does not cover. FUS must presign what the client will send.
//
// # Streaming rules
//
//   - Everything is validated before the first read of the body, so a
//     client that sent Expect: 100-continue never sends bytes that would be
//     refused. The outbound PUT asks storage for 100-continue too: the
//     client's body is read only once storage is ready to take it.
//   - A Content-Length is required (411 length_required otherwise: storage
//     refuses chunked PUTs to presigned URLs), is sent exactly, and zero
//     bytes go as an empty body with Content-Length: 0, over HTTP/1 and
//     HTTP/2 alike.
//   - A sliding read deadline (http.ResponseController) and a watchdog on
//     storage's progress enforce the idle timeout. After a grace period the
//     client must keep up a minimum rate (WithMinRate: 1 KiB/s after 10 s
//     by default; 408 upload_too_slow), and one upload's body may take at
//     most WithMaxDuration (4 hours; 408 upload_duration_exceeded). Serve
//     with http.Server.ReadHeaderTimeout, never ReadTimeout, which would cut
//     every long upload.
//   - Uploads in flight are bounded (WithMaxUploads): one at a time per
//     upload or part (429 upload_in_progress), 256 per company (429
//     too_many_uploads), 2,048 in all (503 upload_capacity), each with a
//     Retry-After and before FUS is asked. A failure of this server's own
//     resources (out of file descriptors) is 503 upload_capacity, never
//     blamed on the client or on storage.
//   - A client that disconnects aborts the PUT, and S3 and Azure keep
//     nothing of a PUT that ended short.
//   - The answer is written only after storage answered: 200 with storage's
//     ETag (quotes kept: completing a multipart upload needs them) and
//     {"etag", "size", "part_number"}. Azure's Put Block answers 201 with no
//     ETag; the etag is then "". Any other storage status is 502
//     storage_rejected naming storage's error code (AccessDenied,
//     SignatureDoesNotMatch, AuthenticationFailed), never its URL.
//
// The presigned URL is a credential: it is never logged, traced or shown to
// a client. The PUT to storage has a client span of its own (through
// tracing.Transport), which records the storage URL cut before its query.
//
// S3 is tested against MinIO and Azure against Azurite, both verifying
// signatures. GCS has no local emulator that verifies signed URLs, so for
// GCS only the shape of the request is tested.
package upload
