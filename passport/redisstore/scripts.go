package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// script is a Lua script and its SHA-1, run by EVALSHA and sent whole
// only when the server does not know it yet (NOSCRIPT), as after a
// restart or a failover to a replica that never loaded it.
type script struct{ src, sha string }

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// putScript replaces the session hash at KEYS[1]: ARGV are the session's
// JSON (without its revocation), id, user, revocation time ("" if live)
// and TTL in milliseconds.
var putScript = newScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'id', ARGV[2], 'u', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'r', ARGV[4]) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`)

// revokeScript marks the session at KEYS[1] revoked at ARGV[3], if it is
// the one meant: field ARGV[1] ("id" or "u") equals ARGV[2], or for "c"
// its companies include ARGV[2]. The TTL is kept. A session revoked
// already keeps its time, written again: a write the replicas must
// acknowledge (WAIT counts a connection's writes), so an acknowledged
// revocation is on the replicas even when an earlier one, not
// acknowledged, wrote the mark. It returns 1 when it wrote, 0 when the
// session is not (or no longer) the one meant.
var revokeScript = newScript(`
if ARGV[1] == 'c' then
  local d = redis.call('HGET', KEYS[1], 'd')
  if not d then return 0 end
  local s = cjson.decode(d)
  local found = false
  if type(s.companies) == 'table' then
    for _, c in ipairs(s.companies) do
      if c == ARGV[2] then found = true break end
    end
  end
  if not found then return 0 end
elseif redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
local r = redis.call('HGET', KEYS[1], 'r') or ARGV[3]
redis.call('HSET', KEYS[1], 'r', r)
return 1`)

// dropScript deletes the session at KEYS[1] if its id is ARGV[1].
var dropScript = newScript(`
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// indexScript adds member ARGV[1] scored ARGV[2] (when it is forgotten, in
// Unix milliseconds) to the sorted set KEYS[1], trims the members already
// forgotten at ARGV[3] (now), and lets the set expire with its last member.
// So an index never outgrows the sessions it finds.
var indexScript = newScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1`)

// call is one script run on one key, or, with s nil, one command (args,
// its name first) whose first key is keys[0].
type call struct {
	s    *script
	keys []string
	args []any
}

// queue queues the call on p, a script by its SHA-1 unless text is set.
func (cl call) queue(ctx context.Context, p redis.Pipeliner, text bool) *redis.Cmd {
	switch {
	case cl.s == nil:
		return p.Do(ctx, cl.args...)
	case text:
		return p.Eval(ctx, cl.s.src, cl.keys, cl.args...)
	}
	return p.EvalSha(ctx, cl.s.sha, cl.keys, cl.args...)
}

// pipeliner is a client that pipelines: any client, or one node's.
type pipeliner interface {
	Pipelined(context.Context, func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// evalPipelined runs calls in one pipeline (a Cluster client splits it by
// node) and returns their commands; calls the server did not know the
// script of are sent again with the script's text. The error is the first
// command's that failed, redis.Nil aside.
func evalPipelined(ctx context.Context, c pipeliner, calls []call) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 0 {
		return cmds, nil
	}
	// Each command carries its own error; Pipelined's is the first of them.
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, cl := range calls {
			cmds[i] = cl.queue(ctx, p, false)
		}
		return nil
	})
	var again []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				cmds[i] = calls[i].queue(ctx, p, true)
			}
			return nil
		})
	}
	return cmds, firstErr(cmds)
}

// firstErr is the first error of cmds, redis.Nil aside.
func firstErr[C redis.Cmder](cmds []C) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// isRedirect reports a Cluster redirection (the slot moved, as after a
// failover) that a fresh view of the cluster resolves.
func isRedirect(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ") ||
		strings.HasPrefix(msg, "CLUSTERDOWN") || strings.HasPrefix(msg, "TRYAGAIN")
}
