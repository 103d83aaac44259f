package zone

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

var update = flag.Bool("update", false, "rewrite foldtable.go from the Unicode tables of golang.org/x/text")

// foldKeep is what asciiRuns and asciiWords record: readings made only of
// what a portable path segment holds (WithPathSegment) and of what changes
// how a path splits or decodes. A reading with anything else ("(c)" of
// U+249E) can neither spell a segment name nor move a segment boundary, so
// leaving its rune unmapped changes no decision.
func foldKeep(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("._~-/\\%; ", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// asciiReadings returns, for every rune above ASCII that some common
// folding reads as ASCII, that reading in lower case: Unicode simple case
// mapping and folding (Go's unicode.SimpleFold orbits, strings.ToLower and
// ToUpper, Java's Character.toUpperCase/toLowerCase), full case folding,
// the full lower, upper and title case of the root, Turkish, Azerbaijani
// and Lithuanian locales, NFKC and NFKD, and NFKC with case folding. It
// fails the test if a rune has two different ASCII readings.
func asciiReadings(t *testing.T) map[rune]string {
	fold := cases.Fold()
	var casers []cases.Caser
	for _, tag := range []language.Tag{language.Und, language.Turkish, language.Azerbaijani, language.Lithuanian} {
		casers = append(casers, cases.Lower(tag), cases.Upper(tag), cases.Title(tag))
	}
	out := map[rune]string{}
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		// Unassigned and private-use code points have no mapping, and
		// ideographs and Hangul syllables none to ASCII: skipping them
		// keeps the walk to seconds.
		if !utf8.ValidRune(r) || !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cf) ||
			unicode.In(r, unicode.Han, unicode.Hangul, unicode.Tangut, unicode.Yi) {
			continue
		}
		s := string(r)
		var got string
		add := func(x string) {
			if x == s || x == "" {
				return
			}
			for i := 0; i < len(x); i++ {
				if x[i] >= utf8.RuneSelf || x[i] < ' ' || x[i] == 0x7f {
					return
				}
			}
			x = strings.ToLower(x)
			if got != "" && got != x {
				t.Errorf("%U has two ASCII readings, %q and %q", r, got, x)
			}
			got = x
		}
		add(norm.NFKC.String(s))
		add(norm.NFKD.String(s))
		add(fold.String(s))
		add(norm.NFKC.String(fold.String(norm.NFKC.String(s))))
		add(string(unicode.ToLower(r)))
		add(string(unicode.ToUpper(r)))
		add(string(unicode.ToTitle(r)))
		add(string(unicode.ToLower(unicode.ToUpper(r)))) // Java's equalsIgnoreCase
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(string(f))
		}
		add(string(unicode.TurkishCase.ToLower(r)))
		add(string(unicode.TurkishCase.ToUpper(r)))
		for _, c := range casers {
			add(c.String(s))
			add(norm.NFKC.String(c.String(norm.NFKC.String(s))))
		}
		if got != "" {
			out[r] = got
		}
	}
	return out
}

// TestASCIIFoldTable derives foldtable.go from the Unicode tables of
// golang.org/x/text and the standard library (a test-only dependency: the
// zone package itself links neither x/text nor any table but its own), and
// fails while the file differs. Run with -update to rewrite it.
func TestASCIIFoldTable(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every rune through every folding")
	}
	readings := asciiReadings(t)
	src := foldTableSource(readings)
	if *update {
		if err := os.WriteFile("foldtable.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("foldtable.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, src) {
		t.Fatal("foldtable.go is out of date: go test ./zone -run TestASCIIFoldTable -update")
	}
	// The table, read back through asciiReading, is the derivation.
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		want, ok := readings[r]
		if !ok || !foldKeep(want) {
			want = ""
		}
		if got, _ := asciiReading(r); got != want {
			t.Fatalf("asciiReading(%U) = %q, want %q", r, got, want)
		}
	}
}

// TestASCIIFoldTableCovers checks the readings the issue names against the
// library's table with the standard library alone.
func TestASCIIFoldTableCovers(t *testing.T) {
	for r, want := range map[rune]string{
		0x0130:  "i",  // İ: Go's ToLower, Java's equalsIgnoreCase
		0x0131:  "i",  // ı: ToUpper is I
		0x017f:  "s",  // ſ: simple case folding
		0x212a:  "k",  // Kelvin sign
		0xff43:  "c",  // fullwidth c, NFKC
		0x1d41c: "c",  // mathematical bold c, NFKC
		0x24d2:  "c",  // circled c, NFKC
		0x217d:  "c",  // small Roman numeral one hundred, NFKC
		0x00df:  "ss", // ß, full case folding
		0xfb01:  "fi", // ligature, NFKC and full case folding
		0x2025:  "..", // two dot leader, NFKC
		0x2100:  "a/c",
		0xfe68:  "\\",
		0xfe6a:  "%",
	} {
		got, ok := asciiReading(r)
		if !ok || got != want {
			t.Errorf("asciiReading(%U) = %q, %v; want %q", r, got, ok, want)
		}
	}
	// Every rune whose simple case folding orbit holds an ASCII letter.
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				if got, _ := asciiReading(r); !strings.EqualFold(got, string(f)) {
					t.Errorf("asciiReading(%U) = %q, want %q", r, got, f)
				}
			}
		}
	}
	// Marks that a folding drops: U+0307 after i (Lithuanian upper case,
	// Turkish lower case of I plus the dot), and the default-ignorable
	// code points NFKC_Casefold removes.
	if s := cases.Upper(language.Lithuanian).String("i\u0307"); s != "I" {
		t.Errorf("Lithuanian upper case: %q", s)
	}
	if s := cases.Lower(language.Turkish).String("COMPANI\u0307ES"); s != "companies" {
		t.Errorf("Turkish lower case: %q", s)
	}
	for _, s := range []string{"compani\u0307es", "COMPANI\u0307ES", "compa\u034fnies", "companie\ufe0fs", "companies\U000e0100"} {
		if got, changed := asciiSkeleton(s); !changed || !strings.EqualFold(got, "companies") {
			t.Errorf("asciiSkeleton(%q) = %q, %v", s, got, changed)
		}
	}
	for _, s := range []string{"café", "straße", "日本"} {
		if got, _ := asciiSkeleton(s); got == "" || strings.EqualFold(got, "companies") {
			t.Errorf("asciiSkeleton(%q) = %q", s, got)
		}
	}
}

// foldTableSource returns foldtable.go for readings: single-byte readings
// as runs of consecutive runes, longer ones in a map.
func foldTableSource(readings map[rune]string) []byte {
	var runes []rune
	for r, s := range readings {
		if foldKeep(s) {
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	var b bytes.Buffer
	b.WriteString(`// Code generated by TestASCIIFoldTable (go test ./zone -run TestASCIIFoldTable -update); DO NOT EDIT.

package zone

// asciiRuns maps runes above ASCII to the one ASCII byte that some common
// folding reads them as (see asciiReading): rune lo+i reads as to[i], and
// a 0 byte marks a rune of the run that has no such reading. Sorted by lo.
var asciiRuns = [...]asciiRun{
`)
	var words []rune
	for i := 0; i < len(runes); {
		if len(readings[runes[i]]) > 1 {
			words = append(words, runes[i])
			i++
			continue
		}
		lo := runes[i]
		to := []byte(readings[lo])
		i++
		for i < len(runes) && len(readings[runes[i]]) == 1 && runes[i]-lo-rune(len(to)) < 4 {
			for rune(len(to)) < runes[i]-lo {
				to = append(to, 0)
			}
			to = append(to, readings[runes[i]]...)
			i++
		}
		fmt.Fprintf(&b, "{0x%04x, %q},\n", lo, to)
	}
	b.WriteString(`}

// asciiWords maps runes above ASCII to the ASCII string of two or more
// bytes that some common folding reads them as (see asciiReading).
var asciiWords = map[rune]string{
`)
	for i, r := range words {
		fmt.Fprintf(&b, "0x%04x: %q,", r, readings[r])
		if i%6 == 5 || i == len(words)-1 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return src
}
