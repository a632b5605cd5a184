package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/fluxera/activity/alert/detect"
	"github.com/fluxera/activity/internal/stacktest"
)

// The reference scripts below check one event at a time with the commands
// of one check each (a ZSCORE, ZADD, HSET and ZCOUNT per session check, an
// HGET per place, a ZRANGE of the history per hour check), with one key
// per check in KEYS. The store's scripts work on a copy of what a call
// read of each user; these tests hold them to the same answers and the
// same stored state, batch by batch, on random streams with events out of
// order, redeliveries, ended sessions and changing places.

var referenceSessionScript = goredis.NewScript(`
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

var referencePlaceScript = goredis.NewScript(`
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

var referenceHourScript = goredis.NewScript(`
local out, expiring = {}, {}
for i = 1, #KEYS do
  local key, b = KEYS[i], (i - 1) * 8
  local start = tonumber(ARGV[b + 2])
  local keep = tonumber(ARGV[b + 3])
  redis.call('ZADD', key, start, ARGV[b + 1])
  if (expiring[key] or -1) < keep then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (start - keep))
    redis.call('PEXPIRE', key, keep)
    expiring[key] = keep
  end
  local members = redis.call('ZRANGE', key, ARGV[b + 4], '(' .. ARGV[b + 5], 'BYSCORE')
  local before, hour, after = ARGV[b + 6], ARGV[b + 7], ARGV[b + 8]
  local days, near = {}, {}
  local nd, nn = 0, 0
  for _, m in ipairs(members) do
    local d, h = string.sub(m, 1, 8), string.sub(m, 10, 11)
    if not days[d] then
      days[d] = true
      nd = nd + 1
    end
    if (h == before or h == hour or h == after) and not near[d] then
      near[d] = true
      nn = nn + 1
    end
  end
  out[i] = {nd, nn}
end
return out
`)

func TestSessionChecksAnswerAsOneCheckAtATime(t *testing.T) {
	client, prefix := stacktest.MustRedis(t, "detect-same")
	rnd := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	at := start
	lastSeen := map[int][2]string{}
	var sent []detect.SessionCheck
	for batch := range 60 {
		var checks []detect.SessionCheck
		if batch%20 == 1 {
			// a user with a hundred sessions, counted by Redis past 64
			for i := range 100 {
				checks = append(checks, detect.SessionCheck{Key: "{ws}:s:many", SessionID: fmt.Sprintf("m-%d", i%(50+batch)), EventID: fmt.Sprintf("m-%d-%d", batch, i),
					IP: "203.0.113.1", At: at.Add(time.Duration(i) * time.Second), End: i%17 == 16, Window: 30 * time.Minute, Keep: time.Hour, Last: 3, ListFrom: 80})
			}
		}
		for range 1 + rnd.IntN(40) {
			var c detect.SessionCheck
			if len(sent) > 0 && rnd.IntN(10) == 0 {
				c = sent[rnd.IntN(len(sent))] // a redelivery
			} else {
				at = at.Add(time.Duration(rnd.IntN(8)) * 30 * time.Second) // with ties
				user := rnd.IntN(3)
				session, ip := fmt.Sprintf("s-%d", rnd.IntN(6)), fmt.Sprintf("198.51.100.%d", rnd.IntN(3))
				if last, ok := lastSeen[user]; ok && rnd.IntN(2) == 0 {
					session, ip = last[0], last[1] // most events are of the user's session of the event before
				}
				lastSeen[user] = [2]string{session, ip}
				c = detect.SessionCheck{
					Key:       fmt.Sprintf("{ws}:s:%d", user),
					SessionID: session,
					EventID:   fmt.Sprintf("e-%d-%d", batch, len(checks)),
					IP:        ip,
					At:        at.Add(-time.Duration(rnd.IntN(3)) * time.Duration(rnd.IntN(20)) * time.Minute), // and out of order
					End:       rnd.IntN(15) == 0,
					Window:    30 * time.Minute,
					Keep:      time.Hour,
					Last:      3,
					ListFrom:  int64(2 + rnd.IntN(2)),
				}
			}
			checks = append(checks, c)
		}
		sent = append(sent, checks...)
		got := checkAs(t, client, prefix+"new:", checks, func(cs []detect.SessionCheck) ([]string, []any) { return sessionArgs(cs) }, sessionScript, sessionResult)
		want := checkAs(t, client, prefix+"ref:", checks, referenceSessionArgs, referenceSessionScript, sessionResult)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: answers\n%+v\nwant\n%+v", batch, got, want)
		}
		sameState(t, client, prefix)
	}
}

func TestPlaceChecksAnswerAsOneCheckAtATime(t *testing.T) {
	client, prefix := stacktest.MustRedis(t, "detect-same")
	rnd := rand.New(rand.NewPCG(3, 4))
	all := []string{"country:DE", "country:FR", "network:A", "network:B", "network:C"}
	lastPlaces := map[int][]string{}
	var sent []detect.LocationCheck
	for batch := range 60 {
		var checks []detect.LocationCheck
		for range 1 + rnd.IntN(30) {
			var c detect.LocationCheck
			if len(sent) > 0 && rnd.IntN(8) == 0 {
				c = sent[rnd.IntN(len(sent))]
			} else {
				user := rnd.IntN(4)
				c = detect.LocationCheck{Key: fmt.Sprintf("{ws}:p:%d", user), EventID: fmt.Sprintf("e-%d-%d", batch, len(checks)), Keep: time.Hour}
				if last, ok := lastPlaces[user]; ok && rnd.IntN(2) == 0 {
					c.Places = last // as most of a user's events come from where the last one did
				} else {
					for _, p := range all {
						if rnd.IntN(3) == 0 {
							c.Places = append(c.Places, p)
						}
					}
					if len(c.Places) == 0 {
						c.Places = all[:1]
					}
				}
				lastPlaces[user] = c.Places
			}
			checks = append(checks, c)
		}
		sent = append(sent, checks...)
		norm := func(v any) (detect.LocationResult, error) {
			r, err := placesResult(v)
			if len(r.New) == 0 {
				r.New = nil
			}
			return r, err
		}
		got := checkAs(t, client, prefix+"new:", checks, placeArgs, placeScript, norm)
		want := checkAs(t, client, prefix+"ref:", checks, referencePlaceArgs, referencePlaceScript, norm)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: answers\n%+v\nwant\n%+v", batch, got, want)
		}
		sameState(t, client, prefix)
	}
}

func TestHourChecksAnswerAsOneCheckAtATime(t *testing.T) {
	client, prefix := stacktest.MustRedis(t, "detect-same")
	rnd := rand.New(rand.NewPCG(5, 6))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var sent []detect.HourCheck
	day := 0
	for batch := range 80 {
		var checks []detect.HourCheck
		if batch == 0 {
			// an hour of the day before, read, then moved out of the span
			// asked about and in again
			dayStart := start.AddDate(0, 0, 3)
			check := func(seen time.Time, hour int, moved time.Duration) detect.HourCheck {
				return detect.HourCheck{Key: "{ws}:h:moved", Day: seen.Format("20060102"), Hour: hour, HourStart: seen.Add(time.Duration(hour)*time.Hour + moved),
					Since: dayStart.AddDate(0, 0, -10), DayStart: dayStart, Keep: 12 * 24 * time.Hour}
			}
			before := dayStart.AddDate(0, 0, -1)
			checks = append(checks, check(before, 10, 0), check(dayStart, 10, 0), check(before, 10, 20*time.Hour), check(dayStart, 11, 0),
				check(before, 10, 0), check(dayStart, 12, 0))
		}
		for range 1 + rnd.IntN(30) {
			var c detect.HourCheck
			if len(sent) > 0 && rnd.IntN(10) == 0 {
				c = sent[rnd.IntN(len(sent))]
			} else {
				if rnd.IntN(12) == 0 {
					day++
				}
				d := max(0, day-rnd.IntN(2)*rnd.IntN(3))
				dayStart := start.AddDate(0, 0, d)
				hour := rnd.IntN(24)
				// The store's checks are of the hour's own day; these also
				// add hours of earlier days, inside the span asked about,
				// and move hours (as a changed time zone would).
				seen := dayStart
				if rnd.IntN(5) == 0 {
					seen = dayStart.AddDate(0, 0, -1-rnd.IntN(3))
				}
				hourStart := seen.Add(time.Duration(hour) * time.Hour)
				if rnd.IntN(8) == 0 {
					hourStart = hourStart.Add(time.Duration(1+rnd.IntN(30)) * time.Hour)
				}
				c = detect.HourCheck{Key: fmt.Sprintf("{ws}:h:%d", rnd.IntN(3)), Day: seen.Format("20060102"), Hour: hour,
					HourStart: hourStart, Since: dayStart.AddDate(0, 0, -10), DayStart: dayStart,
					Keep: time.Duration(12+rnd.IntN(2)) * 24 * time.Hour}
			}
			checks = append(checks, c)
		}
		sent = append(sent, checks...)
		got := checkAs(t, client, prefix+"new:", checks, hourArgs, hourScript, hourResult)
		want := checkAs(t, client, prefix+"ref:", checks, referenceHourArgs, referenceHourScript, hourResult)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: answers\n%+v\nwant\n%+v", batch, got, want)
		}
		sameState(t, client, prefix)
	}
}

// checkAs runs checks, their keys under prefix, as one call of script and
// reads the answers.
func checkAs[C, R any](t *testing.T, client *goredis.Client, prefix string, checks []C, args func([]C) ([]string, []any), script *goredis.Script, read func(any) (R, error)) []R {
	t.Helper()
	prefixed := make([]C, len(checks))
	for i, c := range checks {
		v := reflect.ValueOf(&c).Elem().FieldByName("Key")
		v.SetString(prefix + v.String())
		prefixed[i] = c
	}
	keys, argv := args(prefixed)
	v, err := script.Run(context.Background(), client, keys, argv...).Result()
	if err != nil {
		t.Fatal(err)
	}
	answers, err := replyArray(v)
	if err != nil || len(answers) != len(checks) {
		t.Fatalf("reply %v: %v", v, err)
	}
	out := make([]R, len(answers))
	for i, a := range answers {
		if out[i], err = read(a); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameState fails unless the keys under prefix+"new:" hold what those
// under prefix+"ref:" hold, each with an expiry.
func sameState(t *testing.T, client *goredis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	dump := func(p string) map[string]string {
		out := map[string]string{}
		keys, err := client.Keys(ctx, p+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			var v any
			switch client.Type(ctx, k).Val() {
			case "zset":
				v = client.ZRangeWithScores(ctx, k, 0, -1).Val()
			case "hash":
				v = client.HGetAll(ctx, k).Val()
			}
			if ttl := client.PTTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("%s has no expiry (%v)", k, ttl)
			}
			out[strings.TrimPrefix(k, p)] = fmt.Sprint(v)
		}
		return out
	}
	got, want := dump(prefix+"new:"), dump(prefix+"ref:")
	if !reflect.DeepEqual(got, want) {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range want {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			if got[k] != want[k] {
				t.Errorf("%s holds %s, want %s", k, got[k], want[k])
			}
		}
		t.Fatalf("stored state differs: %d keys, want %d", len(got), len(want))
	}
}

func referenceSessionArgs(checks []detect.SessionCheck) ([]string, []any) {
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

func referencePlaceArgs(checks []detect.LocationCheck) ([]string, []any) {
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

func referenceHourArgs(checks []detect.HourCheck) ([]string, []any) {
	hh := func(h int) string { return fmt.Sprintf("%02d", (h+24)%24) }
	keys, args := make([]string, len(checks)), make([]any, 0, 8*len(checks))
	for i, c := range checks {
		keys[i] = c.Key
		args = append(args, c.Day+":"+hh(c.Hour), c.HourStart.UnixMilli(), c.Keep.Milliseconds(),
			c.Since.UnixMilli(), c.DayStart.UnixMilli(), hh(c.Hour-1), hh(c.Hour), hh(c.Hour+1))
	}
	return keys, args
}
