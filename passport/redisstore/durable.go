package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is wrapped by the error of a write (Put, or a
// revocation) that reached the master but fewer replicas than
// WithWaitReplicas asks for within its timeout: it was not acknowledged,
// since a failover could lose it, and the caller should retry. The
// session storage API answers it with 503 session_store_unavailable.
var ErrNotReplicated = errors.New("redisstore: too few replicas acknowledged the write")

// write runs calls, each on its key's master, and with WithWaitReplicas
// waits (Redis WAIT) on the connection that wrote until enough replicas
// have what the calls wrote; it returns the calls' commands. A call that
// writes nothing (a revocation of a session that is not the one meant)
// needs no replica.
func (st *Store) write(ctx context.Context, calls []call) ([]*redis.Cmd, error) {
	if st.replicas == 0 {
		return evalPipelined(ctx, st.c, calls)
	}
	cmds := make([]*redis.Cmd, len(calls))
	pending := make([]int, len(calls))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; ; attempt++ {
		groups, err := st.byMaster(ctx, calls, pending)
		if err != nil {
			return nil, err
		}
		var (
			mu        sync.Mutex
			wg        sync.WaitGroup
			errs      []error
			redirects []int
		)
		for node, idx := range groups {
			wg.Go(func() {
				got, err := st.writeWaited(ctx, node, calls, idx)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					for j, i := range idx {
						cmds[i] = got[j]
					}
				case isRedirect(err) && attempt < 2:
					redirects = append(redirects, idx...)
				default:
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if len(errs) == 0 && len(redirects) == 0 {
			return cmds, nil
		}
		// A node gone or a slot moved (a failover): refresh the client's
		// view of the cluster; retry at once only on a redirect.
		if cc, ok := st.c.(*redis.ClusterClient); ok {
			cc.ReloadState(ctx)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		pending = redirects
	}
}

// byMaster groups the calls at idx by the master of their first key.
func (st *Store) byMaster(ctx context.Context, calls []call, idx []int) (map[*redis.Client][]int, error) {
	groups := make(map[*redis.Client][]int)
	switch c := st.c.(type) {
	case *redis.Client:
		groups[c] = idx
	case *redis.ClusterClient:
		for _, i := range idx {
			node, err := c.MasterForKey(ctx, calls[i].keys[0])
			if err != nil {
				return nil, err
			}
			groups[node] = append(groups[node], i)
		}
	default: // New refuses it
		return nil, fmt.Errorf("redisstore: WithWaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", st.c)
	}
	return groups, nil
}

// writeWaited runs the calls at idx on node, scripts by their text, and
// WAIT, in one pipeline: one connection, so WAIT follows the writes it
// waits for. It fails unless enough replicas acknowledged, when a call
// wrote.
func (st *Store) writeWaited(ctx context.Context, node *redis.Client, calls []call, idx []int) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(idx))
	var wait *redis.Cmd
	_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for j, i := range idx {
			cmds[j] = calls[i].queue(ctx, p, true)
		}
		wait = p.Do(ctx, "WAIT", st.replicas, st.waitFor.Milliseconds())
		return nil
	})
	if err := firstErr(cmds); err != nil {
		return nil, err
	}
	wrote := false
	for j, cmd := range cmds {
		// A script returns 0 when it wrote nothing; a command always writes.
		n, err := cmd.Int64()
		wrote = wrote || calls[idx[j]].s == nil || err != nil || n != 0
	}
	acked, err := wait.Int64()
	switch {
	case err != nil:
		return nil, err
	case wrote && acked < int64(st.replicas):
		return nil, fmt.Errorf("%w: written to the master, %d of %d replicas acknowledged within %v",
			ErrNotReplicated, acked, st.replicas, st.waitFor)
	}
	return cmds, nil
}
