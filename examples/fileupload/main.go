// Command fileupload serves the storage host of cellgate's reference
// topology: a PUT to a URL signed with the upload key (see
// examples/signurl) is streamed, without buffering, to the presigned
// storage URL that the zone's file upload service names (calls signed with
// the FUS key).
//
//	go -C examples run ./fileupload -addr 127.0.0.1:8084 \
//	    -fus us01=http://127.0.0.1:7101,us02=http://127.0.0.1:7102,uk01=http://127.0.0.1:7103 \
//	    -storage-hosts '*.s3.amazonaws.com,http://127.0.0.1:8086'
//
// -storage-hosts is required: presigned URLs may point only at the storage
// it lists (see upload.WithStorageHosts: host[:port] or *.suffix for https,
// http://host:port for plain http, IP literals only exactly).
package main

import (
	"flag"
	"os"

	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/hmacsig"
)

func main() {
	addr := flag.String("addr", reference.Env("CELLGATE_ADDR", "127.0.0.1:8084"), "listen address ($CELLGATE_ADDR)")
	directory := flag.String("directory", reference.Env("CELLGATE_DIRECTORY", ""), "zone directory JSON file; empty: the examples' ($CELLGATE_DIRECTORY)")
	keys := flag.String("keys", reference.Env("CELLGATE_KEYS", ".cellgate/keys"), "key directory: upload.key, fus.key ($CELLGATE_KEYS)")
	fus := reference.MapFlag{}
	flag.Var(fus, "fus", "zone=URL of each zone's file upload service, comma-separated or repeated")
	hosts := flag.String("storage-hosts", reference.Env("CELLGATE_STORAGE_HOSTS", ""), "comma-separated storage hosts presigned URLs may point to, required: host[:port] or *.suffix (https), http://host:port (plain http) ($CELLGATE_STORAGE_HOSTS)")
	addrs := flag.String("storage-addresses", reference.Env("CELLGATE_STORAGE_ADDRESSES", ""), "comma-separated internal addresses or CIDR prefixes the storage hosts may resolve to (loopback, private and link-local ones are refused otherwise) ($CELLGATE_STORAGE_ADDRESSES)")
	cors := flag.String("cors", reference.Env("CELLGATE_CORS", ""), "comma-separated origins allowed to upload ($CELLGATE_CORS)")
	flag.Parse()
	if err := run(*addr, *directory, *keys, fus, reference.ListFlag(*hosts), reference.ListFlag(*addrs), reference.ListFlag(*cors)); err != nil {
		os.Exit(reference.ExitStatus("fileupload", err))
	}
}

func run(addr, directory, keys string, fus map[string]string, hosts, storageAddrs, origins []string) error {
	dir, err := reference.LoadDirectory(directory)
	if err != nil {
		return err
	}
	uploadKey, err := reference.LoadKey(keys, "upload")
	if err != nil {
		return err
	}
	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: uploadKey})
	if err != nil {
		return err
	}
	fusKey, err := reference.LoadKey(keys, "fus")
	if err != nil {
		return err
	}
	signer, err := hmacsig.NewSigner(fusKey)
	if err != nil {
		return err
	}
	geo, _, err := reference.Geofencing(nil, "", nil, nil) // residency: the regions of the examples' zones
	if err != nil {
		return err
	}
	h, err := reference.NewFileUpload(reference.FileUploadConfig{
		Verifier: v, Directory: dir, FUS: fus, FUSSigner: signer, StorageHosts: hosts,
		StorageAddresses: storageAddrs, CORSOrigins: origins, Residency: geo.Residency,
	})
	if err != nil {
		return err
	}
	return reference.ListenAndServe("storage", addr, h)
}
