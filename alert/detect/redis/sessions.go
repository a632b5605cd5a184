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
// them as id, last seen, "event id|ip" triples: the count alone when there
// is nothing to list, else {count, triples}.
//
// At the first check of a user in a call the script reads the user's
// sessions with their scores and forgets the old ones (only tidying: the
// counts look at [at-window, at] alone); the user's checks of the call
// then count and record in that copy, and the call writes each session's
// latest sighting once, in one ZADD and one HSET per user, when it lists
// sessions, ends one, or finishes, and sets the keys' expiries then. A
// user with more than 64 sessions kept is counted with ZCOUNT, after the
// copy is written, so that no check walks a long list. A
// user's many events in one batch thus cost Redis a few commands, not
// three each, with the answers and the stored state of one command per
// event.
//
// KEYS: each user's sessions and their latest events, once per user;
// ARGV: the number of settings, the settings (window, keep, how many
// sessions to return, list-from; four each), then per check: "S" (seen)
// or "E" (ended), the user (the number of its pair of keys), at, event id,
// session id, ip and the settings' number; or "s" (seen) and the user, at
// and event id alone, when the session id, ip and settings are those of
// the user's previous check in the call.
var sessionScript = goredis.NewScript(`
local out, users, order, settings = {}, {}, {}, {}
local ns = tonumber(ARGV[1])
for j = 1, ns do
  local b = 1 + (j - 1) * 4
  settings[j] = {tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])}
end
-- each runs cmd on key with the arguments of list, at most 200 at a time
local function each(cmd, key, list)
  for j = 1, #list, 200 do
    redis.call(cmd, key, unpack(list, j, math.min(j + 199, #list)))
  end
end
local function flush(u)
  local z, h = {}, {}
  for sid, v in pairs(u.dirty) do
    z[#z + 1] = u.scores[sid]
    z[#z + 1] = sid
    h[#h + 1] = sid
    h[#h + 1] = v
  end
  each('ZADD', u.zkey, z)
  each('HSET', u.hkey, h)
  u.dirty = {}
  redis.call('PEXPIRE', u.zkey, u.keep)
  redis.call('PEXPIRE', u.hkey, u.keep)
end
local prev = {}
local i, c = 0, 1 + ns * 4
while c < #ARGV do
  i = i + 1
  local op, k, at, eid = ARGV[c + 1], tonumber(ARGV[c + 2]), tonumber(ARGV[c + 3]), ARGV[c + 4]
  local p = prev[k]
  if op == 's' then
    c = c + 4
  else
    p = {sid = ARGV[c + 5], ip = ARGV[c + 6], s = settings[tonumber(ARGV[c + 7])]}
    prev[k] = p
    c = c + 7
  end
  local zkey, hkey = KEYS[2 * k - 1], KEYS[2 * k]
  local sid, s = p.sid, p.s
  local from, keep = at - s[1], s[2]
  local u = users[k]
  if op == 'E' then
    if u then
      flush(u)
      u.gone = true
      users[k] = nil -- the keys may be gone, and come back without an expiry
    end
    redis.call('ZREM', zkey, sid)
    redis.call('HDEL', hkey, sid)
    out[i] = 0
  else
    if not u then
      local scores, old, size = {}, {}, 0
      local all = redis.call('ZRANGE', zkey, '-inf', '+inf', 'BYSCORE', 'WITHSCORES')
      local oldest = at - keep
      for j = 1, #all, 2 do
        local score = tonumber(all[j + 1])
        if score < oldest then
          old[#old + 1] = all[j]
        else
          scores[all[j]] = score
          size = size + 1
        end
      end
      each('ZREM', zkey, old)
      each('HDEL', hkey, old)
      u = {scores = scores, size = size, dirty = {}, keep = keep, zkey = zkey, hkey = hkey}
      users[k] = u
      order[#order + 1] = u
    end
    local last = u.scores[sid]
    if last == nil then
      u.size = u.size + 1
    end
    if last == nil or last <= at then
      u.scores[sid] = at
      u.dirty[sid] = eid .. '|' .. p.ip
    end
    local n = 0
    if u.size > 64 then
      -- a user with many sessions is counted by Redis, not by a walk
      -- over all of them for each check
      flush(u)
      n = redis.call('ZCOUNT', zkey, from, at)
    else
      for _, score in pairs(u.scores) do
        if score >= from and score <= at then n = n + 1 end
      end
    end
    if n >= s[4] then
      flush(u)
      local list = {}
      local latest = redis.call('ZRANGE', zkey, at, from, 'BYSCORE', 'REV', 'LIMIT', 0, s[3], 'WITHSCORES')
      for j = 1, #latest, 2 do
        list[#list + 1] = latest[j]
        list[#list + 1] = latest[j + 1]
        list[#list + 1] = redis.call('HGET', hkey, latest[j]) or ''
      end
      out[i] = {n, list}
    else
      out[i] = n
    end
  end
end
for _, u in ipairs(order) do
  if not u.gone then flush(u) end
end
return out
`)

// sessionArgs are the keys and arguments of sessionScript for checks.
func sessionArgs(checks []detect.SessionCheck) ([]string, []any) {
	var keys keyList
	type settings struct{ window, keep, last, listFrom int64 }
	var known []settings // a batch has one or a few
	type seen struct {
		session, ip string
		settings    int
	}
	last := []seen{{}} // by user, from 1
	var head []any
	args := make([]any, 0, 4*len(checks))
	for _, c := range checks {
		user := keys.pair(c.Key, func() string { return c.Key + ":events" })
		s := settings{c.Window.Milliseconds(), max(c.Keep, c.Window).Milliseconds(), int64(c.Last), c.ListFrom}
		n := slices.Index(known, s) + 1
		if n == 0 {
			known = append(known, s)
			n = len(known)
			head = append(head, s.window, s.keep, s.last, s.listFrom)
		}
		now := seen{c.SessionID, c.IP, n}
		switch {
		case c.End:
			args = append(args, "E", user, c.At.UnixMilli(), c.EventID, c.SessionID, c.IP, n)
		case user < len(last) && last[user] == now:
			args = append(args, "s", user, c.At.UnixMilli(), c.EventID)
		default:
			args = append(args, "S", user, c.At.UnixMilli(), c.EventID, c.SessionID, c.IP, n)
		}
		if user == len(last) {
			last = append(last, now)
		} else {
			last[user] = now
		}
	}
	return keys.keys, append(append([]any{len(known)}, head...), args...)
}

func sessionResult(v any) (detect.SessionResult, error) {
	if n, ok := v.(int64); ok {
		return detect.SessionResult{Count: n}, nil
	}
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
