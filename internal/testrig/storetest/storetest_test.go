package storetest_test

import (
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/storetest"
	"github.com/cellgate/cellgate/passport"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) passport.Store {
		s, err := passport.NewMemoryStore(passport.WithClock(now), passport.WithRetention(storetest.Retention))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
