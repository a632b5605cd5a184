package redis

import (
	"context"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// windowScript counts one event in a sliding window: a sorted set of event
// ids scored by event time in milliseconds. It adds the event (again, if
// it is a redelivery), forgets members older than keep before it, and
// returns how many members fall in [at-window, at] and the latest of
// their ids.
//
// KEYS[1] window; ARGV at, window, keep, event id, how many ids to return.
var windowScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
local from = at - tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], at, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - keep))
redis.call('PEXPIRE', KEYS[1], keep)
local n = redis.call('ZCOUNT', KEYS[1], from, at)
local ids = redis.call('ZRANGE', KEYS[1], at, from, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[5]))
return {n, ids}
`)

func queueWindow(ctx context.Context, pipe goredis.Pipeliner, c detect.WindowCheck) *goredis.Cmd {
	return windowScript.EvalSha(ctx, pipe, []string{c.Key},
		c.At.UnixMilli(), c.Window.Milliseconds(), max(c.Keep, c.Window).Milliseconds(), c.EventID, c.Last)
}

func windowResult(c *goredis.Cmd) (detect.WindowResult, error) {
	v, err := c.Result()
	if err != nil {
		return detect.WindowResult{}, err
	}
	parts, err := replyArray(v)
	if err != nil || len(parts) != 2 {
		return detect.WindowResult{}, errReply(v, err)
	}
	n, err := replyInt(parts[0])
	if err != nil {
		return detect.WindowResult{}, err
	}
	ids, err := replyStrings(parts[1])
	if err != nil {
		return detect.WindowResult{}, err
	}
	slices.Reverse(ids)
	return detect.WindowResult{Count: n, EventIDs: ids}, nil
}
