package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// claimScript claims the right to raise an alert. A subject's claims are a
// sorted set of alert ids scored by the time of the event that raised
// each. An alert that already holds a claim keeps it, so a batch sent again
// after a failure, or a replayed stream, raises the same alert again (and
// the alert store ignores it); another alert is refused while a claim lies
// within cooldown of it on either side, in event time, so the answer does
// not depend on the order events arrive in.
//
// KEYS[1] claims; ARGV alert id, at, cooldown, keep.
var claimScript = goredis.NewScript(`
local at = tonumber(ARGV[2])
local cooldown = tonumber(ARGV[3])
local keep = tonumber(ARGV[4])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
if redis.call('ZCOUNT', KEYS[1], '(' .. (at - cooldown), '(' .. (at + cooldown)) > 0 then
  return 0
end
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - keep))
redis.call('PEXPIRE', KEYS[1], keep)
return 1
`)

func queueClaim(ctx context.Context, pipe goredis.Pipeliner, c detect.Claim) *goredis.Cmd {
	return claimScript.EvalSha(ctx, pipe, []string{c.Key},
		c.AlertID, c.At.UnixMilli(), c.Cooldown.Milliseconds(), max(c.Keep, c.Cooldown).Milliseconds())
}
