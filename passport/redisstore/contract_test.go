package redisstore_test

import (
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/redistest"
	"github.com/cellgate/cellgate/internal/storetest"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// The Store contract (internal/storetest, also run against the memory
// store) on a single node and on a 3-master/3-replica Cluster.
func TestContract(t *testing.T) {
	contract := func(client redis.UniversalClient) storetest.NewStore {
		return func(t *testing.T, now func() time.Time) passport.Store {
			return newStore(t, client, redisstore.WithClock(now), redisstore.WithRetention(storetest.Retention))
		}
	}
	t.Run("SingleNode", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, contract(newClient(t, redistest.Start(t))))
	})
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, contract(newClusterClient(t, redistest.StartCluster(t, time.Second))))
	})
}
