package standin_test

import (
	"fmt"

	"github.com/cellgate/cellgate/examples/internal/standin"
)

// The file upload services presign these paths of the object store.
func ExampleObjectPath() {
	fmt.Println(standin.ObjectPath("us01", "report-7", 0))
	fmt.Println(standin.ObjectPath("us01", "report-7", 3))
	// Output:
	// /objects/us01/report-7
	// /objects/us01/report-7/parts/3
}
