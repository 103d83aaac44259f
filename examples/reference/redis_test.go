package reference

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// A shared directory reads its file again once a company is invalidated,
// as a directory-change notice does; until then it answers from its cache.
func TestLoadSharedDirectoryRereadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.json")
	write := func(zoneName string) {
		t.Helper()
		replaceFile(t, path, `{"1": {"zone": "`+zoneName+`", "web_base_url": "https://`+zoneName+`.test"}}`)
	}
	write("us01")
	dir, err := LoadSharedDirectory(path)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func() string {
		t.Helper()
		z, err := dir.Lookup(context.Background(), "1")
		if err != nil {
			t.Fatal(err)
		}
		return z.Name
	}
	if got := lookup(); got != "us01" {
		t.Fatalf("company 1 in %s, want us01", got)
	}
	write("us02")
	if got := lookup(); got != "us01" {
		t.Fatalf("before the notice: company 1 in %s, want the cached us01", got)
	}
	dir.Invalidate("1")
	if got := lookup(); got != "us02" {
		t.Fatalf("after the notice: company 1 in %s, want us02", got)
	}
}

// replaceFile replaces the file at path with one holding content, as
// LoadSharedDirectory's doc asks: a temporary file renamed over it.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSharedDirectoryRefusesABadFileAtStart(t *testing.T) {
	if _, err := LoadSharedDirectory(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("a missing directory file was accepted")
	}
}

// The session storage's writes wait for one replica with a Cluster, for
// none with a single node, and for what -redis-replicas says otherwise.
func TestRedisStoreOptions(t *testing.T) {
	cluster, single := []string{"a:1", "b:1", "c:1"}, []string{"a:1"}
	for _, tt := range []struct {
		addrs    []string
		replicas int
		want     string
	}{
		{cluster, -1, "WithWaitReplicas"},
		{single, -1, "WithNoWaitReplicas"},
		{cluster, 0, "WithNoWaitReplicas"},
		{single, 2, "WithWaitReplicas"},
	} {
		opts := RedisStoreOptions(tt.addrs, tt.replicas)
		if len(opts) != 1 || fmt.Sprint(opts[0]) != tt.want {
			t.Errorf("RedisStoreOptions(%v, %d) = %v, want %s", tt.addrs, tt.replicas, opts, tt.want)
		}
		// New takes them with a client bounded as NewRedisClient's (it
		// refuses a wait not shorter than the client's read timeout).
		client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: tt.addrs, ReadTimeout: RedisTimeout})
		if st, err := redisstore.New(client, opts...); err != nil {
			t.Errorf("redisstore.New(RedisStoreOptions(%v, %d)...) = %v", tt.addrs, tt.replicas, err)
		} else {
			st.Close()
		}
		client.Close()
	}
}
