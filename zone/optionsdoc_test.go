package zone

import (
	"testing"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// The "Options:" list in each constructor's doc is the list it reads, so
// the doc a reader trusts cannot drift from what the code accepts.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	writeStaticFile(t)
	ctors := constructors
	reads := make(map[string][]string, len(ctors))
	for name, ctor := range ctors {
		reads[name] = ctor.reads
	}
	optcheck.CheckDocLists(t, ".", reads)
}
