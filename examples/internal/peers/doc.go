// Package peers starts real storage services for tests: MinIO (S3 with
// presigned SigV4 URLs) and Azurite (Azure Blob with SAS). Storage is never
// mocked in cellgate's tests; these are the peers the upload handler is
// proven against.
//
// Each peer runs as a child process on a loopback port with a temporary
// data directory, and is stopped when the test ends. No port is picked,
// released and then bound by the peer: Azurite is started on port 0 and
// says which port it got; MinIO, which cannot, gets a port below the
// kernel's ephemeral range and another when it loses one
// (internal/testrig/testport), and proves it is the server that answers. Binaries are found via
// an environment variable (MINIO_BIN, AZURITE_BIN), then PATH, then
// $GOPATH/bin, then .peers in the working directory or any directory above
// it (.ci/run puts Azurite in the repository root's .peers with
// `npm install --prefix .peers azurite@3.37.0`). When a binary
// is absent the test is skipped locally and fails under CI=true, so CI
// cannot silently lose the proof.
package peers
