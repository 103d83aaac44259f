// Package uploadpeers_test proves upload.Handler against real storage
// peers: MinIO (S3 with presigned SigV4 URLs, driven by minio-go) and
// Azurite (Azure Blob with SAS, driven by azblob). It lives in the examples
// module so those heavy clients never enter the library's go.mod; it uses
// only upload's public API and upload/uploadtest.
//
// A test skips when its peer binary is absent, and fails under CI=true.
package uploadpeers_test
