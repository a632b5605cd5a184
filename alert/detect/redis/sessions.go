package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// sessionScript records that a user's session was seen, or ended. The
// user's sessions are a sorted set of session ids scored by when each was
// last seen (event time, in milliseconds, never moved back by an older
// event), beside a hash of session id to "event id|ip" of that latest
// event. An ending session leaves both. The script forgets sessions last
// seen more than keep before the event and returns how many sessions were
// last seen in [at-window, at], and the latest of them as id, last seen,
// "event id|ip" triples.
//
// KEYS[1] sessions, KEYS[2] their latest events; ARGV at, window, keep,
// session id, event id, ip, end (1 or 0), how many sessions to return.
var sessionScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
local from = at - tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local sid = ARGV[4]
if ARGV[7] == '1' then
  redis.call('ZREM', KEYS[1], sid)
  redis.call('HDEL', KEYS[2], sid)
  return {0, {}}
end
local seen = redis.call('ZSCORE', KEYS[1], sid)
if not seen or tonumber(seen) <= at then
  redis.call('ZADD', KEYS[1], at, sid)
  redis.call('HSET', KEYS[2], sid, ARGV[5] .. '|' .. ARGV[6])
end
local old = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. (at - keep), 'BYSCORE')
for _, s in ipairs(old) do
  redis.call('ZREM', KEYS[1], s)
  redis.call('HDEL', KEYS[2], s)
end
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
local n = redis.call('ZCOUNT', KEYS[1], from, at)
local latest = redis.call('ZRANGE', KEYS[1], at, from, 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[8]), 'WITHSCORES')
local out = {}
for i = 1, #latest, 2 do
  out[#out + 1] = latest[i]
  out[#out + 1] = latest[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], latest[i]) or ''
end
return {n, out}
`)

func queueSession(ctx context.Context, pipe goredis.Pipeliner, c detect.SessionCheck) *goredis.Cmd {
	end := 0
	if c.End {
		end = 1
	}
	return sessionScript.EvalSha(ctx, pipe, []string{c.Key, c.Key + ":events"},
		c.At.UnixMilli(), c.Window.Milliseconds(), max(c.Keep, c.Window).Milliseconds(),
		c.SessionID, c.EventID, c.IP, end, c.Last)
}

func sessionResult(c *goredis.Cmd) (detect.SessionResult, error) {
	v, err := c.Result()
	if err != nil {
		return detect.SessionResult{}, err
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
