package geofence_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/zone/geofence"
)

func storageCheck(t *testing.T) *geofence.StorageCheck {
	t.Helper()
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	s, err := geofence.NewStorageCheck(res, map[geofence.Region]geofence.StorageRule{
		"uk": {Hosts: []string{"*.s3.eu-west-2.amazonaws.com", "ukuploads.blob.core.windows.net", "minio.uk.internal:9000"}, S3Regions: []string{"eu-west-2"}},
		"us": {Hosts: []string{"us-uploads.s3.us-east-1.amazonaws.com", "us-uploads.s3-us-west-2.amazonaws.com"}, S3Regions: []string{"us-east-1", "us-west-2"}},
	})
	require.NoError(t, err)
	return s
}

const ukCred = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Feu-west-2%2Fs3%2Faws4_request&X-Amz-Signature=abc"

func TestStorageCheck(t *testing.T) {
	s := storageCheck(t)
	for _, tc := range []struct {
		zone, url string
		ok        bool
		why       string
	}{
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?" + ukCred, true, "uk bucket, uk signature"},
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com:443/o?" + ukCred, true, "default port"},
		{"uk01", "https://ukuploads.blob.core.windows.net/c/o?sv=2024&sig=x", true, "Azure host of the region"},
		{"uk01", "http://minio.uk.internal:9000/b/o?" + ukCred, true, "MinIO host and port"},
		{"uk01", "http://minio.uk.internal/b/o?" + ukCred, false, "MinIO without its port"},
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com/o", false, "S3 without a credential"},
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?X-Amz-Credential=AKID%2F20261207%2Fus-east-1%2Fs3%2Faws4_request", false, "signed for us-east-1"},
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?" + ukCred + "&x-amz-credential=AKID%2F20261207%2Fus-east-1%2Fs3%2Faws4_request", false, "two credentials"},
		{"uk01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?X-Amz-Credential=garbage", false, "a credential that does not parse"},
		{"uk01", "https://us-uploads.s3.us-east-1.amazonaws.com/o?" + ukCred, false, "a us bucket for a uk zone"},
		{"uk01", "https://x.s3.us-east-1.eu-west-2.amazonaws.com/o?" + ukCred, false, "two regions in the host"},
		{"uk01", "https://s3.eu-west-2.amazonaws.com.evil.example/o?" + ukCred, false, "a look-alike host"},
		{"uk01", "https://s3.eu-west-2.amazonaws.com/o?" + ukCred, false, "the suffix itself"},
		{"us01", "https://us-uploads.s3.us-east-1.amazonaws.com/o?X-Amz-Credential=AKID%2F20261207%2Fus-east-1%2Fs3%2Faws4_request", true, "us bucket"},
		{"us02", "https://us-uploads.s3-us-west-2.amazonaws.com/o?X-Amz-Credential=AKID%2F20261207%2Fus-west-2%2Fs3%2Faws4_request", true, "legacy s3- host"},
		{"us01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?" + ukCred, false, "a uk bucket for a us zone"},
		{"us01", "https://ukuploads.blob.core.windows.net/c/o", false, "uk Azure for a us zone"},
		{"eu01", "https://uk-up.s3.eu-west-2.amazonaws.com/o?" + ukCred, false, "a zone without a region"},
	} {
		u, err := url.Parse(tc.url)
		require.NoError(t, err)
		err = s.Check(tc.zone, u)
		if tc.ok {
			assert.NoError(t, err, tc.why)
			continue
		}
		assert.ErrorIs(t, err, geofence.ErrUploadOutOfRegion, tc.why)
		if err != nil {
			assert.NotContains(t, err.Error(), "Signature", "the cause names no query")
			assert.NotContains(t, err.Error(), "AKID")
		}
	}
}

func TestNewStorageCheckRefusesBadRules(t *testing.T) {
	res, err := geofence.NewResidency(regions)
	require.NoError(t, err)
	for name, rule := range map[string]geofence.StorageRule{
		"no host":       {},
		"bad host":      {Hosts: []string{"https://x.example"}},
		"bare wildcard": {Hosts: []string{"*."}},
		"bad S3 region": {Hosts: []string{"x.example"}, S3Regions: []string{"europe"}},
	} {
		_, err := geofence.NewStorageCheck(res, map[geofence.Region]geofence.StorageRule{"uk": rule})
		assert.Error(t, err, name)
	}
	_, err = geofence.NewStorageCheck(nil, nil)
	assert.Error(t, err)
}
