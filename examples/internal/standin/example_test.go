package standin_test

import (
	"fmt"
	"time"

	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/upload"
)

// The file upload services presign these paths of the object store.
func ExampleObjectPath() {
	fmt.Println(standin.ObjectPath("us01", upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "report-7"}))
	fmt.Println(standin.ObjectPath("us01", upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "report-7", PartNumber: 3}))
	// Output:
	// /objects/us01/1/7/report-7
	// /objects/us01/1/7/report-7/parts/3
}

// In S3 mode the file upload services presign SigV4 URLs, path-style; a
// part's URL names the multipart upload the service started. (botocore's
// S3SigV4QueryAuth signs both the same at the same instant.)
func ExampleS3_PresignPut() {
	s3 := &standin.S3{
		Endpoint: "http://127.0.0.1:9000", Bucket: "cellgate",
		AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Now: func() time.Time { return time.Date(2026, 5, 24, 0, 0, 0, 0, time.UTC) },
	}
	single, _ := s3.PresignPut(standin.S3Object("us01", upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "report-7"}), 0, "", 15*time.Minute)
	part, _ := s3.PresignPut(standin.S3Object("us01", upload.Params{CompanyID: "1", ProjectID: "7", UploadID: "report-8"}), 2, "mp-1", 15*time.Minute)
	fmt.Println(single)
	fmt.Println(part)
	// Output:
	// http://127.0.0.1:9000/cellgate/us01/1/7/report-7?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260524T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=06447960fc6dfd9c0a79e845b465c036b58a8c0756cd4a45f7ae0dda31ae9075
	// http://127.0.0.1:9000/cellgate/us01/1/7/report-8?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260524T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&partNumber=2&uploadId=mp-1&X-Amz-Signature=8fde873fd6eef85c10ff798c94aafbd9a441901294c8749f94a5c9396b6c746a
}
