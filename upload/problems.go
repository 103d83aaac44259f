package upload

import (
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// Problems this package answers with. Tests and clients branch on the code;
// every problem is errors.Is-able by its code.
var (
	// ErrProjectInvalid: the project id in the path is not a decimal id.
	ErrProjectInvalid = edge.NewProblem(http.StatusBadRequest, "project_invalid", "The project id is not valid.")
	// ErrUploadIDInvalid: the upload id is not 1–128 of A-Z a-z 0-9 _ -.
	ErrUploadIDInvalid = edge.NewProblem(http.StatusBadRequest, "upload_id_invalid",
		"The upload id must be 1 to 128 letters, digits, '_' or '-'.")
	// ErrPartNumberInvalid: the part number is not an integer from 1 to 10000.
	ErrPartNumberInvalid = edge.NewProblem(http.StatusBadRequest, "part_number_invalid",
		"The part number must be an integer from 1 to 10000.")
	// ErrLengthRequired: the request has no Content-Length (a chunked body).
	// Cloud storage refuses chunked PUTs to presigned URLs.
	ErrLengthRequired = edge.NewProblem(http.StatusLengthRequired, "length_required",
		"A Content-Length is required: send the upload with a known length, not chunked.")
	// ErrTooLarge: the Content-Length exceeds the configured maximum.
	ErrTooLarge = edge.NewProblem(http.StatusRequestEntityTooLarge, "upload_too_large", "The upload is too large.")
	// ErrUploadUnknown: the file upload service does not know the upload.
	ErrUploadUnknown = edge.NewProblem(http.StatusNotFound, "upload_unknown", "The upload is not known.")
	// ErrUploadConflict: the file upload service refused the upload in its
	// current state (already completed, for example).
	ErrUploadConflict = edge.NewProblem(http.StatusConflict, "upload_conflict",
		"The upload cannot take this request in its current state.")
	// ErrFUSUnavailable: the file upload service failed, timed out or
	// answered something unusable.
	ErrFUSUnavailable = edge.NewProblem(http.StatusBadGateway, "file_upload_service_unavailable",
		"The file upload service could not provide a storage location. Please retry later.")
	// ErrStorageRejected: cloud storage answered the PUT with an error. The
	// detail names the storage's error code, never its URL.
	ErrStorageRejected = edge.NewProblem(http.StatusBadGateway, "storage_rejected", "Cloud storage refused the upload.")
	// ErrStorageUnavailable: cloud storage could not be reached or broke off.
	ErrStorageUnavailable = edge.NewProblem(http.StatusBadGateway, "storage_unavailable",
		"Cloud storage could not be reached. Please retry later.")
	// ErrStorageTargetRefused: the storage host resolved to an address the
	// storage transport may not connect to (loopback, private, link-local,
	// metadata; see WithStorageAddresses). Nothing was sent. The cause
	// names the address, never the URL.
	ErrStorageTargetRefused = edge.NewProblem(http.StatusBadGateway, "storage_target_refused",
		"The storage location is not an allowed address.")
	// ErrStorageTimeout: cloud storage stopped reading or did not answer
	// within the idle timeout.
	ErrStorageTimeout = edge.NewProblem(http.StatusGatewayTimeout, "storage_timeout", "Cloud storage did not answer in time.")
	// ErrUploadTimeout: the client sent no bytes within the idle timeout.
	ErrUploadTimeout = edge.NewProblem(http.StatusRequestTimeout, "upload_timeout",
		"The upload stalled: no data arrived for too long.")
	// ErrUploadTooSlow: after the grace period, the client sent its body
	// below the minimum rate (WithMinRate).
	ErrUploadTooSlow = edge.NewProblem(http.StatusRequestTimeout, "upload_too_slow",
		"The upload arrived too slowly.")
	// ErrUploadTooLong: the client's body took longer than the longest
	// upload allowed (WithMaxDuration).
	ErrUploadTooLong = edge.NewProblem(http.StatusRequestTimeout, "upload_duration_exceeded",
		"The upload took longer than allowed: send large files in parts.")
	// ErrUploadInProgress: the same upload (or the same part of it) is being
	// sent already. Answered with a Retry-After.
	ErrUploadInProgress = edge.NewProblem(http.StatusTooManyRequests, "upload_in_progress",
		"This upload is already in progress.")
	// ErrTooManyUploads: the company has as many uploads in flight as it may
	// (WithMaxUploads). Answered with a Retry-After.
	ErrTooManyUploads = edge.NewProblem(http.StatusTooManyRequests, "too_many_uploads",
		"Too many uploads are in progress for this company. Please retry later.")
	// ErrUploadCapacity: this server has no room for another upload now,
	// either at its limit of uploads in flight (WithMaxUploads) or out of
	// file descriptors. It is never the client's fault. Answered with a
	// Retry-After.
	ErrUploadCapacity = edge.NewProblem(http.StatusServiceUnavailable, "upload_capacity",
		"The server cannot take another upload now. Please retry later.")
)
