package ratelimit

import (
	"testing"

	"github.com/cellgate/cellgate/internal/optcheck"
)

// The "Options:" list in each constructor's doc is the list it reads.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	optcheck.CheckDocLists(t, ".", map[string][]string{"New": newOptions, "NewKey": keyOptions})
}
