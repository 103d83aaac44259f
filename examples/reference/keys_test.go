package reference

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")

	first, err := LoadKey(dir, "upload")
	require.NoError(t, err)
	assert.Len(t, first, 32)
	fi, err := os.Stat(KeyFile(dir, "upload"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file readable by its owner only")
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	again, err := LoadKey(dir, "upload")
	require.NoError(t, err)
	assert.Equal(t, first, again, "a generated key is kept, not replaced")

	other, err := LoadKey(dir, "fus")
	require.NoError(t, err)
	assert.False(t, bytes.Equal(first, other), "one key per purpose")

	envKey := bytes.Repeat([]byte{7}, 32)
	t.Setenv(KeyEnv("objects"), hex.EncodeToString(envKey))
	got, err := LoadKey(dir, "objects")
	require.NoError(t, err)
	assert.Equal(t, envKey, got, "the environment wins")
	_, err = os.Stat(KeyFile(dir, "objects"))
	assert.True(t, os.IsNotExist(err), "a key from the environment is not written")

	require.NoError(t, os.WriteFile(KeyFile(dir, "auth"), []byte("too short"), 0o600))
	_, err = LoadKey(dir, "auth")
	assert.Error(t, err, "a bad key file is an error, not replaced")
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKeys(dir)
	require.NoError(t, err)
	all := [][]byte{k.Upload, k.Sessions, k.FUS, k.Objects, k.Auth}
	for i := range all {
		require.Len(t, all[i], 32)
		for j := range i {
			assert.NotEqual(t, all[i], all[j])
		}
	}
	for _, name := range KeyNames {
		assert.FileExists(t, KeyFile(dir, name))
	}
}
