package redis

import (
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// windowScript counts events in sliding windows, one per check, in order:
// each window is a sorted set of event ids scored by event time in
// milliseconds. For each check it adds the event (again, if it is a
// redelivery) and answers how
// many members fall in [at-window, at] and, once that count reaches
// list-from, the latest of their ids. A call forgets members older than
// keep before the event and sets a key's expiry at its first check of the key:
// forgetting is only tidying, as the answers look at their own span.
//
// KEYS one window per check; ARGV per check: at, window, keep, event id,
// how many ids to return, list-from.
var windowScript = goredis.NewScript(`
local out, expiring = {}, {}
for i = 1, #KEYS do
  local key, b = KEYS[i], (i - 1) * 6
  local at = tonumber(ARGV[b + 1])
  local from = at - tonumber(ARGV[b + 2])
  local keep = tonumber(ARGV[b + 3])
  redis.call('ZADD', key, at, ARGV[b + 4])
  if (expiring[key] or -1) < keep then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (at - keep))
    redis.call('PEXPIRE', key, keep)
    expiring[key] = keep
  end
  local n = redis.call('ZCOUNT', key, from, at)
  local ids = {}
  if n >= tonumber(ARGV[b + 6]) then
    ids = redis.call('ZRANGE', key, at, from, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[b + 5]))
  end
  out[i] = {n, ids}
end
return out
`)

// windowArgs are the keys and arguments of windowScript for checks.
func windowArgs(checks []detect.WindowCheck) ([]string, []any) {
	keys, args := make([]string, len(checks)), make([]any, 0, 6*len(checks))
	for i, c := range checks {
		keys[i] = c.Key
		args = append(args, c.At.UnixMilli(), c.Window.Milliseconds(), max(c.Keep, c.Window).Milliseconds(), c.EventID, c.Last, c.ListFrom)
	}
	return keys, args
}

func windowResult(v any) (detect.WindowResult, error) {
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
	if len(ids) == 0 {
		return detect.WindowResult{Count: n}, nil
	}
	slices.Reverse(ids)
	return detect.WindowResult{Count: n, EventIDs: ids}, nil
}
