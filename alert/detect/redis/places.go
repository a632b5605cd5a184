package redis

import (
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// placeScript records the places users' events came from, one check at a
// time, in order. A user's places are a hash of place ("country:DE") to
// the id of the event that introduced it, with the field "=first" naming
// the user's first located event, the baseline. For each check it answers
// whether the event is the baseline and the places it introduced: those
// new to the hash, and those the hash says this same event introduced, so
// that a redelivery gets the verdict the first delivery got. The baseline
// introduces nothing. The answer is 1 or 0 (the baseline or not) when the
// event introduced nothing, else {baseline, places}. A call remembers
// what it read or wrote of a user's hash, so a user's later events in the
// call from known places cost no commands; a key's expiry is set once per
// call.
//
// KEYS: each user's places, once; ARGV per check: the user (the number of
// its key), event id, the number of places, keep and the places; or -1
// instead of the number, and neither keep nor places, when they are those
// of the user's previous check in the call.
var placeScript = goredis.NewScript(`
local out, users, prev = {}, {}, {}
local i, c = 0, 0
while c < #ARGV do
  i = i + 1
  local k = tonumber(ARGV[c + 1])
  local key, id, n = KEYS[k], ARGV[c + 2], tonumber(ARGV[c + 3])
  local asked = prev[k]
  if n < 0 then
    c = c + 3
  else
    asked = {keep = ARGV[c + 4], places = {}}
    for j = 1, n do
      asked.places[j] = ARGV[c + 4 + j]
    end
    prev[k] = asked
    c = c + 4 + n
  end
  local u = users[k]
  if not u then
    u = {}
    u['=first'] = redis.call('HGET', key, '=first')
    if not u['=first'] then
      redis.call('HSET', key, '=first', id)
      u['=first'] = id
    end
    redis.call('PEXPIRE', key, asked.keep)
    users[k] = u
  end
  local first = u['=first']
  local new = {}
  for _, place in ipairs(asked.places) do
    local by = u[place]
    if not by then
      by = redis.call('HGET', key, place)
      if not by then
        redis.call('HSET', key, place, id)
        by = id
      end
      u[place] = by
    end
    if by == id and first ~= id then new[#new + 1] = place end
  end
  local baseline = 0
  if first == id then baseline = 1 end
  if #new == 0 then
    out[i] = baseline
  else
    out[i] = {baseline, new}
  end
end
return out
`)

// placeArgs are the keys and arguments of placeScript for checks.
func placeArgs(checks []detect.LocationCheck) ([]string, []any) {
	var keys keyList
	last := []*detect.LocationCheck{nil} // by user, from 1
	args := make([]any, 0, 3*len(checks))
	for i := range checks {
		c := &checks[i]
		user := keys.one(c.Key)
		if user == len(last) {
			last = append(last, nil)
		}
		if prev := last[user]; prev != nil && prev.Keep == c.Keep && slices.Equal(prev.Places, c.Places) {
			args = append(args, user, c.EventID, -1)
			continue
		}
		last[user] = c
		args = append(args, user, c.EventID, len(c.Places), c.Keep.Milliseconds())
		for _, p := range c.Places {
			args = append(args, p)
		}
	}
	return keys.keys, args
}

func placesResult(v any) (detect.LocationResult, error) {
	if baseline, ok := v.(int64); ok {
		return detect.LocationResult{Baseline: baseline == 1}, nil
	}
	parts, err := replyArray(v)
	if err != nil || len(parts) != 2 {
		return detect.LocationResult{}, errReply(v, err)
	}
	baseline, err := replyInt(parts[0])
	if err != nil {
		return detect.LocationResult{}, err
	}
	places, err := replyStrings(parts[1])
	if err != nil {
		return detect.LocationResult{}, err
	}
	return detect.LocationResult{Baseline: baseline == 1, New: places}, nil
}
