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
// each check the script answers how many sessions were last seen in
// [at-window, at] and, once that count reaches list-from, the latest of
// them as id, last seen, "event id|ip" triples.
//
// At the first check of a user in a call the script forgets old sessions
// (only tidying: the counts look at [at-window, at] alone) and reads the
// remaining ones with their scores; the user's checks of the call then
// count and record in that copy, and the call writes each session's latest
// score and event once, when it lists sessions, ends one, or finishes, and
// sets the keys' expiries then. A user's many events in one batch thus
// cost Redis a few commands, not three each, with the answers and the
// stored state of one command per event.
//
// KEYS per check: the sessions and their latest events; ARGV per check:
// at, window, keep, session id, event id, ip, end (1 or 0), how many
// sessions to return, list-from.
var sessionScript = goredis.NewScript(`
local out, users, order = {}, {}, {}
local function flush(zkey, hkey, u)
  for sid, v in pairs(u.dirty) do
    redis.call('ZADD', zkey, u.scores[sid], sid)
    redis.call('HSET', hkey, sid, v)
  end
  u.dirty = {}
  redis.call('PEXPIRE', zkey, u.keep)
  redis.call('PEXPIRE', hkey, u.keep)
end
for i = 1, #KEYS / 2 do
  local zkey, hkey, b = KEYS[2 * i - 1], KEYS[2 * i], (i - 1) * 9
  local at = tonumber(ARGV[b + 1])
  local from = at - tonumber(ARGV[b + 2])
  local keep = tonumber(ARGV[b + 3])
  local sid = ARGV[b + 4]
  local u = users[zkey]
  if ARGV[b + 7] == '1' then
    if u then
      flush(zkey, hkey, u)
      users[zkey] = nil -- the keys may be gone, and come back without an expiry
    end
    redis.call('ZREM', zkey, sid)
    redis.call('HDEL', hkey, sid)
    out[i] = {0, {}}
  else
    if not u then
      local old = redis.call('ZRANGE', zkey, '-inf', '(' .. (at - keep), 'BYSCORE')
      for _, s in ipairs(old) do
        redis.call('ZREM', zkey, s)
        redis.call('HDEL', hkey, s)
      end
      local scores = {}
      local all = redis.call('ZRANGE', zkey, '-inf', '+inf', 'BYSCORE', 'WITHSCORES')
      for j = 1, #all, 2 do
        scores[all[j]] = tonumber(all[j + 1])
      end
      u = {scores = scores, dirty = {}, keep = keep, hkey = hkey}
      users[zkey] = u
      order[#order + 1] = zkey
    end
    local last = u.scores[sid]
    if last == nil or last <= at then
      u.scores[sid] = at
      u.dirty[sid] = ARGV[b + 5] .. '|' .. ARGV[b + 6]
    end
    local n = 0
    for _, score in pairs(u.scores) do
      if score >= from and score <= at then n = n + 1 end
    end
    local list = {}
    if n >= tonumber(ARGV[b + 9]) then
      flush(zkey, hkey, u)
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
for _, zkey in ipairs(order) do
  local u = users[zkey]
  if u then flush(zkey, u.hkey, u) end
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
