package upload

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// comparable is cfg without its funcs, which cannot be compared.
func comparable(t *testing.T, opts ...ServiceOption) config {
	t.Helper()
	c, err := newConfig("New", opts, ServiceOption.serviceOption)
	require.NoError(t, err)
	c.now, c.validCompany, c.cors, c.flags, c.trust = nil, nil, nil, nil, nil
	return *c
}

// Zero, "" and nil mean the option's default, never "off" or "none": the
// rate floor is turned off by WithoutMinRate, not by a zero.
func TestZeroMeansTheDefault(t *testing.T) {
	def := comparable(t)
	for name, o := range map[string]ServiceOption{
		"WithMaxSize(0)":         WithMaxSize(0),
		"WithIdleTimeout(0)":     WithIdleTimeout(0),
		"WithMinRate(0, 0)":      WithMinRate(0, 0),
		"WithMaxDuration(0)":     WithMaxDuration(0),
		"WithMaxUploads(0, 0)":   WithMaxUploads(0, 0),
		"WithClock(nil)":         WithClock(nil),
		"WithCompanyIDRule(nil)": WithCompanyIDRule(nil),
		`WithPatterns("", "")`:   WithPatterns("", ""),
		"WithLogger(nil)":        WithLogger(nil),
	} {
		assert.True(t, reflect.DeepEqual(def, comparable(t, o)), "%s changed the configuration", name)
	}
	c, err := newConfig("NewClient", []ClientOption{WithFUSTimeout(0)}, ClientOption.clientOption)
	require.NoError(t, err)
	assert.Equal(t, DefaultFUSTimeout, c.fusTimeout)
	c, err = newConfig("New", []ServiceOption{WithCompanyIDRule(nil)}, ServiceOption.serviceOption)
	require.NoError(t, err)
	assert.True(t, c.validCompany("42") && !c.validCompany("c-42"), "WithCompanyIDRule(nil) is the default rule")
}
