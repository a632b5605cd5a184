// Package redis keeps the detector's sliding windows in Redis, one sorted
// set per window scored by event time, with the event id as the member.
package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/ingest/detect"
)

// addScript adds a member and counts the window in one atomic step, trims
// members too old to matter and lets idle windows expire.
var addScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - 2 * window)
redis.call('PEXPIRE', KEYS[1], 2 * window)
return redis.call('ZCOUNT', KEYS[1], '(' .. (at - window), at)
`)

// Windows implements detect.Windows on a Redis client.
type Windows struct {
	client goredis.UniversalClient
}

// NewWindows returns windows stored through client.
func NewWindows(client goredis.UniversalClient) *Windows { return &Windows{client: client} }

// Add counts every entry in its window with one pipelined round trip.
// Redis runs the scripts in order, so each count includes the entries
// before it.
func (w *Windows) Add(ctx context.Context, entries []detect.WindowEntry) ([]int64, error) {
	pipe := w.client.Pipeline()
	cmds := make([]*goredis.Cmd, len(entries))
	for i, e := range entries {
		cmds[i] = addScript.Eval(ctx, pipe, []string{e.Key}, e.At.UnixMilli(), e.Window.Milliseconds(), e.Member)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	counts := make([]int64, len(cmds))
	for i, c := range cmds {
		n, err := c.Int64()
		if err != nil {
			return nil, err
		}
		counts[i] = n
	}
	return counts, nil
}

// Claim sets each key unless it exists, for the cooldown, in one round
// trip, and reports for each whether it did.
func (w *Windows) Claim(ctx context.Context, keys []string, cooldown time.Duration) ([]bool, error) {
	pipe := w.client.Pipeline()
	cmds := make([]*goredis.BoolCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.SetNX(ctx, k, 1, cooldown)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]bool, len(cmds))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}
