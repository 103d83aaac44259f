package redisstore

import (
	"reflect"
	"testing"
)

// Zero and "" mean the option's default, never "off": a session is
// forgotten at expiry by WithoutRetention, not by WithRetention(0).
func TestZeroMeansTheDefault(t *testing.T) {
	comparable := func(opts ...StoreOption) config {
		c, err := newConfig(opts)
		if err != nil {
			t.Fatal(err)
		}
		c.now = nil
		return *c
	}
	def := comparable()
	for name, o := range map[string]StoreOption{
		`WithKeyPrefix("")`:      WithKeyPrefix(""),
		"WithRetention(0)":       WithRetention(0),
		"WithTimeout(0)":         WithTimeout(0),
		"WithPingInterval(0)":    WithPingInterval(0),
		"WithNoticeBound(0)":     WithNoticeBound(0),
		"WithWaitReplicas(0, 0)": WithWaitReplicas(0, 0),
		"WithClock(nil)":         WithClock(nil),
	} {
		if got := comparable(o); !reflect.DeepEqual(def, got) {
			t.Errorf("%s changed the configuration: %+v, want %+v", name, got, def)
		}
	}
	if c := comparable(WithoutRetention()); c.retention != 0 {
		t.Errorf("WithoutRetention: retention %v, want 0", c.retention)
	}
}
