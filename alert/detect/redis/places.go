package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
)

// placeScript records the places a user's event came from: a hash of
// place ("country:DE") to the id of the event that introduced it, with the
// field "=first" naming the user's first located event, the baseline. It
// returns whether the event is the baseline and the places it introduced:
// those new to the hash, and those the hash says this same event
// introduced, so that a redelivery gets the verdict the first delivery
// got. The baseline introduces nothing.
//
// KEYS[1] places; ARGV event id, keep, places...
var placeScript = goredis.NewScript(`
local id = ARGV[1]
local first = redis.call('HGET', KEYS[1], '=first')
if not first then
  redis.call('HSET', KEYS[1], '=first', id)
  first = id
end
local new = {}
for i = 3, #ARGV do
  if redis.call('HSETNX', KEYS[1], ARGV[i], id) == 1 then
    if first ~= id then new[#new + 1] = ARGV[i] end
  elseif first ~= id and redis.call('HGET', KEYS[1], ARGV[i]) == id then
    new[#new + 1] = ARGV[i]
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local baseline = 0
if first == id then baseline = 1 end
return {baseline, new}
`)

func queuePlaces(ctx context.Context, pipe goredis.Pipeliner, c detect.LocationCheck) *goredis.Cmd {
	args := make([]any, 0, 2+len(c.Places))
	args = append(args, c.EventID, c.Keep.Milliseconds())
	for _, p := range c.Places {
		args = append(args, p)
	}
	return placeScript.EvalSha(ctx, pipe, []string{c.Key}, args...)
}

func placesResult(c *goredis.Cmd) (detect.LocationResult, error) {
	v, err := c.Result()
	if err != nil {
		return detect.LocationResult{}, err
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
