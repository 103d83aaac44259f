package optcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// CheckDocLists fails t where the "Options:" sentence in the doc of a
// constructor of the package in dir differs from reads, the options the
// constructor reads (by constructor name), or is missing: the doc a reader
// trusts cannot drift from what the code accepts. For the packages' tests.
func CheckDocLists(t testing.TB, dir string, reads map[string][]string) {
	t.Helper()
	lists := DocLists(t, dir)
	for name, want := range reads {
		got, ok := lists[name]
		switch {
		case !ok:
			t.Errorf("%s's doc has no Options: list", name)
		case !slices.Equal(got, sorted(want)):
			t.Errorf("%s's doc lists %v, it reads %v", name, got, sorted(want))
		}
	}
}

// DocLists returns, for every function of the package in dir whose doc has
// an "Options:" sentence, the options that sentence names, sorted.
func DocLists(t testing.TB, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	option := regexp.MustCompile(`\bWith[A-Z]\w*`)
	lists := map[string][]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Doc == nil || fn.Recv != nil {
				continue
			}
			doc := strings.Join(strings.Fields(fn.Doc.Text()), " ")
			_, after, found := strings.Cut(doc, "Options: ")
			if !found {
				continue
			}
			sentence, _, _ := strings.Cut(after+" ", ". ")
			lists[fn.Name.Name] = sorted(option.FindAllString(sentence, -1))
		}
	}
	return lists
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
