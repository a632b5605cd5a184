package redis

import (
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
// introduces nothing. What a call has read or written of a hash it
// remembers, so a user's later events in the same call cost no commands;
// a key's expiry is set once per call.
//
// KEYS one places hash per check; ARGV per check: event id, keep, the
// number of places, the places.
var placeScript = goredis.NewScript(`
local out, firsts, known = {}, {}, {}
local b = 0
for i = 1, #KEYS do
  local key, id, keep, n = KEYS[i], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3])
  local first, places = firsts[key], known[key]
  if not first then
    first = redis.call('HGET', key, '=first')
    if not first then
      redis.call('HSET', key, '=first', id)
      first = id
    end
    redis.call('PEXPIRE', key, keep)
    firsts[key], places = first, {}
    known[key] = places
  end
  local new = {}
  for j = b + 4, b + 3 + n do
    local place = ARGV[j]
    local by = places[place]
    if not by then
      by = redis.call('HGET', key, place)
      if not by then
        redis.call('HSET', key, place, id)
        by = id
      end
      places[place] = by
    end
    if by == id and first ~= id then new[#new + 1] = place end
  end
  local baseline = 0
  if first == id then baseline = 1 end
  out[i] = {baseline, new}
  b = b + 3 + n
end
return out
`)

// placeArgs are the keys and arguments of placeScript for checks.
func placeArgs(checks []detect.LocationCheck) ([]string, []any) {
	keys, args := make([]string, len(checks)), make([]any, 0, 5*len(checks))
	for i, c := range checks {
		keys[i] = c.Key
		args = append(args, c.EventID, c.Keep.Milliseconds(), len(c.Places))
		for _, p := range c.Places {
			args = append(args, p)
		}
	}
	return keys, args
}

func placesResult(v any) (detect.LocationResult, error) {
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
