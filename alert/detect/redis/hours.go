package redis

import (
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// hourScript records that users were active in given hours and reads
// their history, one check at a time, in order. A user's history is a
// sorted set of "YYYYMMDD:HH" members (day and hour in the workspace's
// time zone) scored by the hour's start in milliseconds. For each check it
// adds the hour and answers on how many distinct days that began in
// [since, day start) the user was active, and on how many of those in one
// of the three given hours. Counting only earlier days keeps the answer
// for a redelivered event the same, however much of its own day was
// recorded since. A call forgets hours older than keep before the hour
// and sets a key's expiry at its first check of the key: forgetting is
// only tidying, as the answers look at their own span.
//
// A call reads a user's history of one span once, as days and their
// hours, and answers the user's later checks of the same span from that,
// until it adds an hour inside the span (or moves one out of it) or
// forgets hours: a user's checks of one day read their history once.
//
// KEYS: each user's history, once; ARGV per check: the user (the number
// of its key), member, hour start, keep, since, day start, and the hours
// "HH" before, of and after the event.
var hourScript = goredis.NewScript(`
local out, expiring, read = {}, {}, {}
for i = 1, #ARGV / 9 do
  local b = (i - 1) * 9 + 1
  local key = KEYS[tonumber(ARGV[b])]
  local start = tonumber(ARGV[b + 2])
  local keep = tonumber(ARGV[b + 3])
  local since, dayStart = ARGV[b + 4], ARGV[b + 5]
  local r = read[key]
  local member = ARGV[b + 1]
  if redis.call('ZADD', key, 'CH', start, member) == 1 and r then
    -- a new hour, or one moved (a changed time zone): the span read is
    -- stale if the hour is in it now or was before
    local was = r.days[string.sub(member, 1, 8)]
    if (start >= r.since and start < r.dayStart) or (was and was[string.sub(member, 10, 11)]) then
      r = nil
    end
  end
  if (expiring[key] or -1) < keep then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (start - keep))
    redis.call('PEXPIRE', key, keep)
    expiring[key] = keep
    r = nil
  end
  if r and (r.sinceArg ~= since or r.dayStartArg ~= dayStart) then
    r = nil
  end
  if not r then
    local members = redis.call('ZRANGE', key, since, '(' .. dayStart, 'BYSCORE')
    local days, nd = {}, 0
    for _, m in ipairs(members) do
      local d, h = string.sub(m, 1, 8), string.sub(m, 10, 11)
      local hours = days[d]
      if not hours then
        hours = {}
        days[d] = hours
        nd = nd + 1
      end
      hours[h] = true
    end
    r = {days = days, nd = nd, since = tonumber(since), dayStart = tonumber(dayStart), sinceArg = since, dayStartArg = dayStart}
    read[key] = r
  end
  local before, hour, after = ARGV[b + 6], ARGV[b + 7], ARGV[b + 8]
  local nn = 0
  for _, hours in pairs(r.days) do
    if hours[before] or hours[hour] or hours[after] then nn = nn + 1 end
  end
  out[i] = {r.nd, nn}
end
return out
`)

// hourArgs are the keys and arguments of hourScript for checks.
func hourArgs(checks []detect.HourCheck) ([]string, []any) {
	hh := func(h int) string { return fmt.Sprintf("%02d", (h+24)%24) }
	var keys keyList
	args := make([]any, 0, 9*len(checks))
	for _, c := range checks {
		args = append(args, keys.one(c.Key), c.Day+":"+hh(c.Hour), c.HourStart.UnixMilli(), c.Keep.Milliseconds(),
			c.Since.UnixMilli(), c.DayStart.UnixMilli(), hh(c.Hour-1), hh(c.Hour), hh(c.Hour+1))
	}
	return keys.keys, args
}

func hourResult(v any) (detect.HourResult, error) {
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
