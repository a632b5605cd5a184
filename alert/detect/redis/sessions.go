package redis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// sessionScript records that users' sessions were seen, or ended, one
// check at a time, in order. A user's sessions are a sorted set of session
// ids scored by when each was last seen (event time, in milliseconds,
// never moved back by an older event), beside a hash of session id to
// "event id|ip" of that latest event. An ending session leaves both. For
// each check the script answers how many sessions were last seen in [at-window,
// at] and, once that count reaches list-from, the latest of them as id,
// last seen, "event id|ip" triples. A call forgets old sessions and sets
// the keys' expiries at the first check of a user (forgetting is only
// tidying: the counts look at [at-window, at] alone), and remembers the
// scores it read or wrote, so a session's later events cost fewer
// commands.
//
// KEYS per check: the sessions and their latest events; ARGV per check:
// at, window, keep, session id, event id, ip, end (1 or 0), how many
// sessions to return, list-from.
var sessionScript = goredis.NewScript(`
local out, seen = {}, {}
for i = 1, #KEYS / 2 do
  local zkey, hkey, b = KEYS[2 * i - 1], KEYS[2 * i], (i - 1) * 9
  local at = tonumber(ARGV[b + 1])
  local from = at - tonumber(ARGV[b + 2])
  local keep = tonumber(ARGV[b + 3])
  local sid = ARGV[b + 4]
  local scores = seen[zkey]
  if ARGV[b + 7] == '1' then
    redis.call('ZREM', zkey, sid)
    redis.call('HDEL', hkey, sid)
    seen[zkey] = nil -- the keys may be gone, and come back without an expiry
    out[i] = {0, {}}
  else
    local fresh = not scores
    if fresh then
      scores = {}
      seen[zkey] = scores
    end
    local last = scores[sid]
    if last == nil then
      last = tonumber(redis.call('ZSCORE', zkey, sid) or -1)
    end
    if last == -1 or last <= at then
      redis.call('ZADD', zkey, at, sid)
      redis.call('HSET', hkey, sid, ARGV[b + 5] .. '|' .. ARGV[b + 6])
      last = at
    end
    scores[sid] = last
    if fresh then
      local old = redis.call('ZRANGE', zkey, '-inf', '(' .. (at - keep), 'BYSCORE')
      for _, s in ipairs(old) do
        redis.call('ZREM', zkey, s)
        redis.call('HDEL', hkey, s)
        scores[s] = nil
      end
      redis.call('PEXPIRE', zkey, keep)
      redis.call('PEXPIRE', hkey, keep)
    end
    local n = redis.call('ZCOUNT', zkey, from, at)
    local list = {}
    if n >= tonumber(ARGV[b + 9]) then
      local latest = redis.call('ZRANGE', zkey, at, from, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[b + 8]), 'WITHSCORES')
      for j = 1, #latest, 2 do
        list[#list + 1] = latest[j]
        list[#list + 1] = latest[j + 1]
        list[#list + 1] = redis.call('HGET', hkey, latest[j]) or ''
      end
    end
    out[i] = {n, list}
  end
end
return out
`)

// sessionArgs are the keys and arguments of sessionScript for checks.
func sessionArgs(checks []detect.SessionCheck) ([]string, []any) {
	keys, args := make([]string, 0, 2*len(checks)), make([]any, 0, 9*len(checks))
	for _, c := range checks {
		end := 0
		if c.End {
			end = 1
		}
		keys = append(keys, c.Key, c.Key+":events")
		args = append(args, c.At.UnixMilli(), c.Window.Milliseconds(), max(c.Keep, c.Window).Milliseconds(),
			c.SessionID, c.EventID, c.IP, end, c.Last, c.ListFrom)
	}
	return keys, args
}

func sessionResult(v any) (detect.SessionResult, error) {
	parts, err := replyArray(v)
	if err != nil || len(parts) != 2 {
		return detect.SessionResult{}, errReply(v, err)
	}
	flat, err := replyStrings(parts[1])
	if err != nil || len(flat)%3 != 0 {
		return detect.SessionResult{}, errReply(parts[1], err)
	}
	n, err := replyInt(parts[0])
	if err != nil {
		return detect.SessionResult{}, err
	}
	res := detect.SessionResult{Count: n}
	for i := 0; i < len(flat); i += 3 {
		ms, err := strconv.ParseFloat(flat[i+1], 64)
		if err != nil {
			return detect.SessionResult{}, fmt.Errorf("session score %q: %w", flat[i+1], err)
		}
		eventID, ip, _ := strings.Cut(flat[i+2], "|")
		res.Sessions = append(res.Sessions, detect.Session{
			ID: flat[i], EventID: eventID, IP: ip, LastSeen: time.UnixMilli(int64(ms)).UTC(),
		})
	}
	slices.Reverse(res.Sessions)
	return res, nil
}
