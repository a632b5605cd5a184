package redis

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// claimScript claims the right to raise alerts, one per claim, in order. A
// subject's claims are a sorted set of alert ids scored by the time of the
// event that raised each. An alert that already holds a claim keeps it, so
// a batch sent again after a failure, or a replayed stream, raises the
// same alert again (and the alert store ignores it); another alert is
// refused while a claim lies within cooldown of it on either side, in
// event time, so the answer does not depend on the order events arrive in.
// It answers 1 for a granted claim and 0 for a refused one.
//
// KEYS one claims set per claim; ARGV per claim: alert id, at, cooldown,
// keep.
var claimScript = goredis.NewScript(`
local out = {}
for i = 1, #KEYS do
  local key, b = KEYS[i], (i - 1) * 4
  local at = tonumber(ARGV[b + 2])
  local cooldown = tonumber(ARGV[b + 3])
  local keep = tonumber(ARGV[b + 4])
  if redis.call('ZSCORE', key, ARGV[b + 1]) then
    out[i] = 1
  elseif redis.call('ZCOUNT', key, '(' .. (at - cooldown), '(' .. (at + cooldown)) > 0 then
    out[i] = 0
  else
    redis.call('ZADD', key, at, ARGV[b + 1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (at - keep))
    redis.call('PEXPIRE', key, keep)
    out[i] = 1
  end
end
return out
`)

// claimArgs are the keys and arguments of claimScript for claims.
func claimArgs(claims []detect.Claim) ([]string, []any) {
	keys, args := make([]string, len(claims)), make([]any, 0, 4*len(claims))
	for i, c := range claims {
		keys[i] = c.Key
		args = append(args, c.AlertID, c.At.UnixMilli(), c.Cooldown.Milliseconds(), max(c.Keep, c.Cooldown).Milliseconds())
	}
	return keys, args
}
