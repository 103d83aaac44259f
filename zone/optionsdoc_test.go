package zone

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

// The "Options:" list in each constructor's doc is the list it reads, so
// the doc a reader trusts cannot drift from what the code accepts.
func TestConstructorDocsListTheOptionsRead(t *testing.T) {
	writeStaticFile(t)
	for name, reads := range docOptionLists(t, ".") {
		ctor, ok := constructors[name]
		if !ok {
			continue
		}
		if !slices.Equal(reads, sorted(ctor.reads)) {
			t.Errorf("%s's doc lists %v, it reads %v", name, reads, sorted(ctor.reads))
		}
	}
	lists := docOptionLists(t, ".")
	for name := range constructors {
		if _, ok := lists[name]; !ok {
			t.Errorf("%s's doc has no Options: list", name)
		}
	}
}

// docOptionLists returns, for every function of the package in dir whose
// doc has an "Options:" sentence, the options that sentence names, sorted.
func docOptionLists(t *testing.T, dir string) map[string][]string {
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
