package reference

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/geofence"
)

// FileUploadConfig configures the storage host.
type FileUploadConfig struct {
	// Verifier checks upload URLs (the upload key); required.
	Verifier *hmacsig.Verifier
	// Directory resolves the company of an upload to its zone; required.
	Directory zone.Directory
	// FUS maps each zone to the base URL of its file upload service,
	// called with FUSSigner (the FUS key) through FUSTransport
	// (edge.NewTransport() when nil, edge.Binding(h) in one process).
	FUS          map[string]string
	FUSSigner    *hmacsig.Signer
	FUSTransport http.RoundTripper
	// StorageHosts are the storage hosts presigned URLs may point to
	// (upload.WithStorageHosts): "host[:port]" or "*.suffix" over https,
	// "http://host:port" over plain http (a local object store or MinIO).
	// Required: any other storage URL is refused.
	StorageHosts []string
	// StorageAddresses are the internal addresses or prefixes the storage
	// hosts may resolve to (upload.WithStorageAddresses): a MinIO on the
	// local network named by host name needs its address here. IP literals
	// of StorageHosts need nothing more.
	StorageAddresses []string
	// CORSOrigins are the browser origins allowed to upload; the ETag of
	// an upload is exposed to them.
	CORSOrigins []string
	// Logger receives the access log; when nil, slog.Default() with the
	// service named (service="router", "gateway-us01", …), so the lines of
	// one request at each hop can be told apart.
	Logger *slog.Logger
	// Upload holds further options of upload.New (upload.WithObserver, …).
	Upload []upload.ServiceOption
	// Residency, when set, checks every directory answer (503
	// residency_mismatch for a company outside its zone's region).
	Residency *geofence.Residency
	// Storage, when set, keeps uploads in the region of their zone: each
	// presigned storage URL is checked against it (upload.WithTargetCheck)
	// before a byte is sent.
	Storage *geofence.StorageCheck
}

// NewFileUpload returns the storage host (upload.New): a PUT to a URL signed
// with the upload key, for a company's upload or one part of it, is streamed
// to the presigned storage URL that the zone's file upload service names.
func NewFileUpload(cfg FileUploadConfig) (http.Handler, error) {
	if cfg.FUSSigner == nil {
		return nil, errors.New("reference: file upload: a FUS signer is required")
	}
	clientOpts := []upload.ClientOption{upload.WithStorageHosts(cfg.StorageHosts...), upload.WithStorageAddresses(cfg.StorageAddresses...)}
	if cfg.Storage != nil {
		clientOpts = append(clientOpts, upload.WithTargetCheck(cfg.Storage.Check))
	}
	if cfg.Residency != nil && cfg.Directory != nil {
		cfg.Directory = cfg.Residency.Directory(cfg.Directory)
	}
	if cfg.FUSTransport != nil {
		clientOpts = append(clientOpts, upload.WithFUSTransport(cfg.FUSTransport))
	}
	opts := []upload.ServiceOption{upload.WithLogger(logger(cfg.Logger, "fileupload"))}
	if len(cfg.CORSOrigins) > 0 {
		opts = append(opts, upload.WithCORS(CORS(cfg.CORSOrigins, "ETag")))
	}
	opts = append(opts, cfg.Upload...)
	fus, err := upload.NewClient(cfg.FUS, cfg.FUSSigner, clientOpts...)
	if err != nil {
		return nil, err
	}
	return upload.New(cfg.Verifier, cfg.Directory, fus, opts...)
}
