package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// hourScript records that a user was active in one hour and reads their
// history: a sorted set of "YYYYMMDD:HH" members (day and hour in the
// workspace's time zone) scored by the hour's start in milliseconds. It
// adds the hour, forgets hours older than keep before it, and returns on
// how many distinct days that began in [since, day start) the user was
// active, and on how many of those in one of the three given hours.
// Counting only earlier days keeps the answer for a redelivered event the
// same, however much of its own day was recorded since.
//
// KEYS[1] hours; ARGV member, hour start, keep, since, day start, and the
// hours "HH" before, of and after the event.
var hourScript = goredis.NewScript(`
local start = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], start, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (start - keep))
redis.call('PEXPIRE', KEYS[1], keep)
local members = redis.call('ZRANGE', KEYS[1], ARGV[4], '(' .. ARGV[5], 'BYSCORE')
local days, near = {}, {}
local nd, nn = 0, 0
for _, m in ipairs(members) do
  local d, h = string.sub(m, 1, 8), string.sub(m, 10, 11)
  if not days[d] then
    days[d] = true
    nd = nd + 1
  end
  if (h == ARGV[6] or h == ARGV[7] or h == ARGV[8]) and not near[d] then
    near[d] = true
    nn = nn + 1
  end
end
return {nd, nn}
`)

func queueHour(ctx context.Context, pipe goredis.Pipeliner, c detect.HourCheck) *goredis.Cmd {
	hh := func(h int) string { return fmt.Sprintf("%02d", (h+24)%24) }
	return hourScript.EvalSha(ctx, pipe, []string{c.Key},
		c.Day+":"+hh(c.Hour), c.HourStart.UnixMilli(), c.Keep.Milliseconds(),
		c.Since.UnixMilli(), c.DayStart.UnixMilli(), hh(c.Hour-1), hh(c.Hour), hh(c.Hour+1))
}

func hourResult(c *goredis.Cmd) (detect.HourResult, error) {
	v, err := c.Result()
	if err != nil {
		return detect.HourResult{}, err
	}
	parts, err := replyArray(v)
	if err != nil || len(parts) != 2 {
		return detect.HourResult{}, errReply(v, err)
	}
	days, err := replyInt(parts[0])
	if err != nil {
		return detect.HourResult{}, err
	}
	near, err := replyInt(parts[1])
	if err != nil {
		return detect.HourResult{}, err
	}
	return detect.HourResult{Days: int(days), DaysNearHour: int(near)}, nil
}
