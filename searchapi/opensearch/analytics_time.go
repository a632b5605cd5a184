package opensearch

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest"
	"github.com/fluxera/activity/searchapi"
)

// The time spent reads every stretch of idle time in which a user acted in
// a session, with its first and last action, through a composite
// aggregation by session key (or user and session) and a date histogram
// as wide as the idle time, in partitions of time (see partitioned) so
// that each session's buckets arrive in time order; and beside the
// partitions, each session's logouts over the whole period, through a
// composite aggregation of the logouts alone (see logoutsRequest).

// activeBucket is one bucket of the time spent's composite aggregation:
// keyed by the session key (keyedSources), or, in a partition of actions
// indexed before it existed, by user and session (activeSources).
type activeBucket struct {
	Key struct {
		User       string `json:"user"`
		Session    string `json:"session"`
		SessionKey string `json:"session_key"`
	} `json:"key"`
	Span actionSpan `json:"span"`
}

// split reads the user and the session out of a bucket's session key.
func (b *activeBucket) split() error {
	if b.Key.SessionKey == "" {
		return nil
	}
	user, session, ok := ingest.SplitSessionKey(b.Key.SessionKey)
	if !ok {
		return fmt.Errorf("decode composite page: a session key of a form the indexer does not write: %q", b.Key.SessionKey)
	}
	b.Key.User, b.Key.Session = user, session
	return nil
}

// actionSpan is the first (min) and last (max) action of a stretch, as
// the stats aggregation of activeAggs answers them.
type actionSpan struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// logoutBucket is one logout of a session.
type logoutBucket struct {
	Key struct {
		At      float64 `json:"at"`
		User    string  `json:"user"`
		Session string  `json:"session"`
	} `json:"key"`
}

// firstLogouts keeps each session's first logout in the period, read
// from the logouts in time order. Once it holds most sessions
// (searchapi.MaxActiveBuckets) it reads no more, and until is the time of
// the first logout it left out: the partitions that end after it are not read, and the
// answer is incomplete. A period with that many sessions logged out has
// at least as many stretches before until, so the time spent would have
// stopped there anyway.
type firstLogouts struct {
	at    map[sessionKey]int64
	most  int
	until int64
}

func newFirstLogouts() *firstLogouts {
	return &firstLogouts{at: map[sessionKey]int64{}, most: searchapi.MaxActiveBuckets, until: math.MaxInt64}
}

// read returns the reader of the logouts' pages of size buckets.
func (l *firstLogouts) read(size int) func(raw []byte) (map[string]any, error) {
	return func(raw []byte) (map[string]any, error) {
		var page []logoutBucket
		after, err := pageOf(raw, size, &page)
		if err != nil {
			return nil, err
		}
		for _, b := range page {
			k := sessionKey{b.Key.User, b.Key.Session}
			if _, ok := l.at[k]; ok {
				continue
			}
			if len(l.at) == l.most {
				l.until = int64(b.Key.At)
				return nil, nil
			}
			l.at[k] = int64(b.Key.At)
		}
		return after, nil
	}
}

type moment struct {
	Value float64 `json:"value"`
}

// inSessions narrows an analysis to the actions of users in sessions.
var inSessions = []any{
	map[string]any{"exists": map[string]any{"field": "context.session_id"}},
	map[string]any{"exists": map[string]any{"field": "actor.id"}},
}

// keyedSources are the keys of the time spent's buckets: the session key
// (user and session as one value, ingest.SessionKeyOf) and stretches of
// idle time. Two sources cost OpenSearch less than three for each action
// it collects.
func keyedSources(idle time.Duration) []any {
	return []any{
		map[string]any{"session_key": map[string]any{"terms": map[string]any{"field": "session_key"}}},
		map[string]any{"at": map[string]any{"date_histogram": map[string]any{"field": "occurred_at", "fixed_interval": fmt.Sprintf("%dm", int(idle/time.Minute))}}},
	}
}

// keyedAggs are the first and last action of a stretch: the min and max
// of one stats aggregation of the time in epoch milliseconds, a number,
// which costs less than min and max aggregations side by side, and than
// the stats of the date itself, whose every figure OpenSearch also
// formats.
var keyedAggs = map[string]any{
	"span": map[string]any{"stats": map[string]any{"field": "occurred_ms"}},
}

// activeSources are the keys of the time spent's buckets in a partition
// holding actions indexed before the session key existed: user, session
// and stretches of idle time.
func activeSources(idle time.Duration) []any {
	return []any{
		map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
		map[string]any{"session": map[string]any{"terms": map[string]any{"field": "context.session_id"}}},
		map[string]any{"at": map[string]any{"date_histogram": map[string]any{"field": "occurred_at", "fixed_interval": fmt.Sprintf("%dm", int(idle/time.Minute))}}},
	}
}

// activeAggs are the first and last action of a stretch: the min and max
// of one stats aggregation, which costs OpenSearch less than a min and a
// max aggregation side by side (one sub-aggregation to collect, build,
// reduce and write for each of the hundreds of thousands of buckets; the
// stats' other figures are left out of the answer by filter_path).
//
// min and max are the epoch milliseconds themselves; OpenSearch also
// writes each of the stats' four figures of a date field as a string in
// the aggregation's format (min_as_string and so on), which the search
// leaves out of the answer but which costs a date formatting each. The
// format statsFormat, a quoted literal, writes the same character for
// every date: the cheapest formatting there is, which on hundreds of
// thousands of buckets saves a sixth of a partition's time over
// epoch_millis.
var activeAggs = map[string]any{
	"span": map[string]any{"stats": map[string]any{"field": "occurred_at", "format": statsFormat}},
}

// statsFormat is a date format that formats every date as "-".
const statsFormat = "'-'"

// logoutSources are the keys of the period's logouts: time, user and
// session, one bucket per logout, in time order.
var logoutSources = []any{
	map[string]any{"at": map[string]any{"terms": map[string]any{"field": "occurred_at"}}},
	map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
	map[string]any{"session": map[string]any{"terms": map[string]any{"field": "context.session_id"}}},
}

// logoutsRequest is a page of the period's logouts (logoutSources) after
// the key after (nil for the first), in pages of the partitions' size. A
// search of the logouts alone reads them from the index of the action,
// a few thousand documents, where a filter aggregation in each partition
// tested every action of the partition for one.
func (f *Finder) logoutsRequest(p activity.Principal, filter *searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	filters := []any{term("action", "auth.logout")}
	filters = append(filters, inSessions...)
	body, err := compositeBodySized(f.partition, p, filter, logoutSources, nil, after, filters...)
	if err != nil {
		return Request{}, err
	}
	r, err := f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key")
	return uncached(r), err
}

// activeSizes is the sizing histogram of the time spent: stretches of
// about six hours, a whole number of idle times from the epoch, so that
// no stretch splits a bucket of activeSources.
func activeSizes(idle time.Duration) map[string]any {
	n := max(1, int((6*time.Hour)/idle))
	return map[string]any{"field": "occurred_at", "fixed_interval": fmt.Sprintf("%dm", n*int(idle/time.Minute))}
}

// timeSpentPlan is the plan of the time spent's searches.
func (f *Finder) timeSpentPlan(p activity.Principal, filter *searchapi.AnalyticsFilter) (partitioned, error) {
	sizing, err := f.sizingRequest(p, filter, activeSizes(filter.Idle), false, "session_key", inSessions)
	if err != nil {
		return partitioned{}, err
	}
	keyed, unkeyed := keyedSources(filter.Idle), activeSources(filter.Idle)
	return partitioned{
		sizing: sizing,
		size:   f.partition,
		page: func(s span, after map[string]any) (Request, error) {
			// A partition reads its actions by session key, unless it
			// holds actions indexed before the session key existed: then
			// by user and session, as all were read then.
			sources, aggs := keyed, keyedAggs
			if s.Unkeyed {
				sources, aggs = unkeyed, activeAggs
			}
			body, err := compositeBodySized(f.partition, p, filter, sources, aggs, after, s.within(inSessions)...)
			if err != nil {
				return Request{}, err
			}
			r, err := f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key",
				"aggregations.pages.buckets.span.min", "aggregations.pages.buckets.span.max")
			return uncached(r), err
		},
		lists: []pagedSearch{
			{compositePage, func(after map[string]any) (Request, error) {
				return f.namesRequest(p, filter, after, inSessions)
			}},
			{f.partition, func(after map[string]any) (Request, error) {
				return f.logoutsRequest(p, filter, after)
			}},
		},
	}, nil
}

// TimeSpentSearches sends through send every search TimeSpent sends for
// filter within p's scope — the same requests, in the same order, as many
// at once — reading of each answer only what the next search needs (the
// partitions, the key a page ends on), so that a benchmark can send the
// very same requests straight to OpenSearch. It returns the number of
// users the names searches named, and the errors TimeSpent returns for a
// missing principal, a bad filter or a failed search.
func (f *Finder) TimeSpentSearches(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter, send func(context.Context, Request) ([]byte, error)) (int64, error) {
	if err := filter.Validate(); err != nil {
		return 0, err
	}
	plan, err := f.timeSpentPlan(p, &filter)
	if err != nil {
		return 0, err
	}
	var users int64
	_, err = plan.read(ctx, send, counting(&users, plan))
	return users, err
}

// TimeSpent measures each user's active time in the period: the union of
// the intervals their actions kept a session active, each action for
// filter.Idle unless its session was logged out sooner. It reads the
// period in partitions of time (see partitioned), carrying each session
// from one partition to the next, and stops after
// searchapi.MaxActiveBuckets buckets (the partitions before the one where
// it was reached, and part of that one), marking the answer incomplete.
func (f *Finder) TimeSpent(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.TimeSpent, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.TimeSpent{}, err
	}
	from, to := filter.Period.From.UnixMilli(), filter.Period.To.UnixMilli()
	loc := filter.Period.Location
	if loc == nil {
		loc = searchapi.Zone(filter.Period.TimeZone)
	}
	plan, err := f.timeSpentPlan(p, &filter)
	if err != nil {
		return searchapi.TimeSpent{}, err
	}
	active := searchapi.NewActiveTime(filter.Idle, from, to)
	names := userNames{}
	logouts := newFirstLogouts()
	var mu sync.Mutex
	parts := map[int][]activeBucket{}
	read := 0
	complete, err := plan.read(ctx, f.sendPooled, partitionReader{
		release: releaseAnswer,
		lists:   []func([]byte) (map[string]any, error){names.read(), logouts.read(plan.lists[1].size)},
		page: func(i int, _ map[string]any, raw []byte) (map[string]any, error) {
			var buckets []activeBucket
			after, err := pageOf(raw, plan.size, &buckets)
			if err != nil {
				return nil, err
			}
			for j := range buckets {
				if err := buckets[j].split(); err != nil {
					return nil, err
				}
			}
			mu.Lock()
			defer mu.Unlock()
			parts[i] = append(parts[i], buckets...)
			return after, nil
		},
		done: func(i int, s span) (bool, error) {
			mu.Lock()
			part := parts[i]
			delete(parts, i)
			mu.Unlock()
			if s.To > logouts.until {
				return false, nil
			}
			for _, b := range part {
				if read == searchapi.MaxActiveBuckets {
					return false, nil
				}
				read++
				a := searchapi.ActiveBucket{User: b.Key.User, Session: b.Key.Session, First: int64(b.Span.Min), Last: int64(b.Span.Max)}
				// The session's first logout is in this bucket if it
				// falls between its first and last action: the stretches
				// of one session do not overlap. Once it was, the session
				// has ended and its later buckets count for nothing.
				if at, ok := logouts.at[sessionKey{a.User, a.Session}]; ok && a.First <= at && at <= a.Last {
					a.Logout, a.HasLogout = at, true
				}
				active.Add(a)
			}
			active.Until(s.To)
			return true, nil
		},
	})
	if err != nil {
		return searchapi.TimeSpent{}, err
	}
	ts := searchapi.TimeSpent{Period: filter.Period, IdleMinutes: filter.Idle.Minutes(), Days: []searchapi.DayTime{}, Users: []searchapi.UserTime{}, Complete: complete}
	days := map[string]int64{}
	for _, a := range active.Users() {
		u := searchapi.UserTime{ID: a.ID, Sessions: a.Sessions, ActiveMS: searchapi.Length(a.Union)}
		for date, n := range searchapi.ByDay(a.Union, loc) {
			u.Days = append(u.Days, dayTime(date, n))
			days[date] += n
		}
		sort.Slice(u.Days, func(i, j int) bool { return u.Days[i].Date < u.Days[j].Date })
		n := names[u.ID].actor
		u.Name, u.Email = n.Name, n.Email
		u.TotalMinutes = minutesOf(u.ActiveMS)
		u.AverageMinutes = roundTenth(float64(u.ActiveMS) / float64(time.Minute/time.Millisecond) / float64(max(1, u.Sessions)))
		ts.Users = append(ts.Users, u)
		ts.Sessions += u.Sessions
		ts.ActiveMS += u.ActiveMS
	}
	ts.TotalMinutes = minutesOf(ts.ActiveMS)
	for date, n := range days {
		ts.Days = append(ts.Days, dayTime(date, n))
	}
	sort.Slice(ts.Days, func(i, j int) bool { return ts.Days[i].Date < ts.Days[j].Date })
	sort.Slice(ts.Users, func(i, j int) bool {
		a, b := ts.Users[i], ts.Users[j]
		if a.ActiveMS != b.ActiveMS {
			return a.ActiveMS > b.ActiveMS
		}
		return a.ID < b.ID
	})
	return ts, nil
}

func dayTime(date string, ms int64) searchapi.DayTime {
	return searchapi.DayTime{Date: date, ActiveMS: ms, Minutes: minutesOf(ms)}
}

func minutesOf(ms int64) float64 {
	return roundTenth(float64(ms) / float64(time.Minute/time.Millisecond))
}

// sessionKey is one session of one user.
type sessionKey struct{ user, session string }
