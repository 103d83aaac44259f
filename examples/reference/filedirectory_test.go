package reference

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cellgate/cellgate/zone"
)

// writeDirectory writes a directory of n companies (1…n, all in us01) to a
// new file and returns its path.
func writeDirectory(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("{")
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"%d": {"zone": "us01", "web_base_url": "https://us01.example.test/companies/%d"}`, i, i)
	}
	b.WriteString("}")
	path := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A lookup of a company the directory does not hold costs a stat, never a
// parse of the file: 1,000 cold misses parse it once, at start (issue 23:
// each miss parsed a 7 MB, 100,000-company file, 238 ms of CPU apiece;
// BenchmarkFileDirectoryMiss measures that size). The figures are logged;
// the assertion is the count.
func TestFileDirectoryMissesDoNotReparse(t *testing.T) {
	path := writeDirectory(t, 10_000)
	fi, _ := os.Stat(path)
	f, err := newFileDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := zone.NewCachingDirectory(f)
	if err != nil {
		t.Fatal(err)
	}
	before := cpuTime(t)
	for i := range 1000 {
		company := strconv.Itoa(20_000 + i)
		if _, err := dir.Lookup(context.Background(), company); !errors.Is(err, zone.ErrUnknownCompany) {
			t.Fatalf("company %s: %v, want ErrUnknownCompany", company, err)
		}
	}
	cpu := cpuTime(t) - before
	if got := f.loads.Load(); got != 1 {
		t.Fatalf("the file was parsed %d times for 1,000 misses, want once (at start)", got)
	}
	t.Logf("1,000 misses against a %d-byte, 10,000-company file: %v CPU in all (%v per miss), 1 parse",
		fi.Size(), cpu, cpu/1000)
}

// A replaced file is read again at the next lookup, once; a replacement
// that does not parse is logged and the last good directory kept, without
// parsing the bad file again at every lookup.
func TestFileDirectoryReloadsOnChangeOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.json")
	replaceFile(t, path, `{"1": {"zone": "us01", "web_base_url": "https://us01.test"}}`)
	f, err := newFileDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	zoneOf := func(company string) string {
		t.Helper()
		z, err := f.Lookup(context.Background(), company)
		if err != nil {
			t.Fatalf("company %s: %v", company, err)
		}
		return z.Name
	}
	if got := zoneOf("1"); got != "us01" {
		t.Fatalf("company 1 in %s, want us01", got)
	}
	replaceFile(t, path, `{"1": {"zone": "us02", "web_base_url": "https://us02.test"}, "2": {"zone": "uk01", "web_base_url": "https://uk01.test"}}`)
	for range 10 {
		if got := zoneOf("1"); got != "us02" {
			t.Fatalf("after the replacement: company 1 in %s, want us02", got)
		}
	}
	if got := f.loads.Load(); got != 2 {
		t.Fatalf("parsed %d times, want 2 (start, one change)", got)
	}
	replaceFile(t, path, `{"1": `) // broken
	for range 10 {
		if got := zoneOf("2"); got != "uk01" {
			t.Fatalf("with a broken file: company 2 in %s, want the last good uk01", got)
		}
	}
	if got := f.loads.Load(); got != 3 {
		t.Fatalf("parsed %d times, want 3: the broken file once, not at every lookup", got)
	}
	replaceFile(t, path, `{"2": {"zone": "us01", "web_base_url": "https://us01.test"}}`)
	if got := zoneOf("2"); got != "us01" {
		t.Fatalf("after the fix: company 2 in %s, want us01", got)
	}
}

// BenchmarkFileDirectoryMiss measures one lookup of an unknown company
// against a 100,000-company file, uncached (the CachingDirectory's miss);
// BenchmarkStaticDirectoryLoad what each such miss cost before, a parse.
func BenchmarkFileDirectoryMiss(b *testing.B) {
	f, err := newFileDirectory(writeDirectory(b, 100_000))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := f.Lookup(context.Background(), strconv.Itoa(200_000+i)); !errors.Is(err, zone.ErrUnknownCompany) {
			b.Fatal(err)
		}
	}
}

func BenchmarkStaticDirectoryLoad(b *testing.B) {
	path := writeDirectory(b, 100_000)
	for b.Loop() {
		if _, err := zone.LoadStaticDirectory(path); err != nil {
			b.Fatal(err)
		}
	}
}
