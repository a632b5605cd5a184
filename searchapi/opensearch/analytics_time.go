package opensearch

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// The time spent reads every stretch of idle time in which a user acted in
// a session, with its first and last action, through a composite
// aggregation by user, session and a date histogram as wide as the idle
// time, in partitions of time (see partitioned) so that each session's
// buckets arrive in time order; and, before them, the first logout of
// every session, through a composite aggregation by user and session of
// the logouts alone, which costs less than asking every stretch for its
// logouts.

// activeBucket is one bucket of the time spent's composite aggregation.
type activeBucket struct {
	Key struct {
		User    string `json:"user"`
		Session string `json:"session"`
	} `json:"key"`
	First moment `json:"first"`
	Last  moment `json:"last"`
}

// logoutBucket is one session's first logout.
type logoutBucket struct {
	Key struct {
		User    string `json:"user"`
		Session string `json:"session"`
	} `json:"key"`
	At moment `json:"at"`
}

type moment struct {
	Value float64 `json:"value"`
}

// inSessions narrows an analysis to the actions of users in sessions.
var inSessions = []any{
	map[string]any{"exists": map[string]any{"field": "context.session_id"}},
	map[string]any{"exists": map[string]any{"field": "actor.id"}},
}

// activeSources are the keys of the time spent's buckets: user, session
// and stretches of idle time.
func activeSources(idle time.Duration) []any {
	return []any{
		map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
		map[string]any{"session": map[string]any{"terms": map[string]any{"field": "context.session_id"}}},
		map[string]any{"at": map[string]any{"date_histogram": map[string]any{"field": "occurred_at", "fixed_interval": fmt.Sprintf("%dm", int(idle/time.Minute))}}},
	}
}

var activeAggs = map[string]any{
	"first": map[string]any{"min": map[string]any{"field": "occurred_at"}},
	"last":  map[string]any{"max": map[string]any{"field": "occurred_at"}},
}

// logoutSources and logoutAggs are the keys and the time of the first
// logout of each session.
var (
	logoutSources = []any{
		map[string]any{"user": map[string]any{"terms": map[string]any{"field": "actor.id"}}},
		map[string]any{"session": map[string]any{"terms": map[string]any{"field": "context.session_id"}}},
	}
	logoutAggs = map[string]any{"at": map[string]any{"min": map[string]any{"field": "occurred_at"}}}
)

// activeSizes is the sizing histogram of the time spent: stretches of
// about six hours, a whole number of idle times from the epoch, so that
// no stretch splits a bucket of activeSources.
func activeSizes(idle time.Duration) map[string]any {
	n := max(1, int((6*time.Hour)/idle))
	return map[string]any{"field": "occurred_at", "fixed_interval": fmt.Sprintf("%dm", n*int(idle/time.Minute))}
}

// timeSpentPlan is the plan of the time spent's searches.
func (f *Finder) timeSpentPlan(p activity.Principal, filter *searchapi.AnalyticsFilter) (partitioned, error) {
	sizing, err := f.sizingRequest(p, filter, activeSizes(filter.Idle), false, inSessions)
	if err != nil {
		return partitioned{}, err
	}
	sources := activeSources(filter.Idle)
	return partitioned{
		sizing: sizing,
		size:   f.partition,
		page: func(s span, after map[string]any) (Request, error) {
			body, err := compositeBodySized(f.partition, p, filter, sources, activeAggs, after, s.within(inSessions)...)
			if err != nil {
				return Request{}, err
			}
			return f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key",
				"aggregations.pages.buckets.first.value", "aggregations.pages.buckets.last.value")
		},
		lists: []pagedSearch{{compositePage, func(after map[string]any) (Request, error) {
			return f.namesRequest(p, filter, after, inSessions)
		}}, {f.partition, func(after map[string]any) (Request, error) {
			body, err := compositeBodySized(f.partition, p, filter, logoutSources, logoutAggs, after, append(inSessions, term("action", "auth.logout"))...)
			if err != nil {
				return Request{}, err
			}
			return f.requestFiltered(body, "aggregations.pages.after_key", "aggregations.pages.buckets.key", "aggregations.pages.buckets.at.value")
		}}},
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
// searchapi.MaxActiveBuckets buckets, the earliest, marking the answer
// incomplete.
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
	logouts := map[sessionKey]int64{} // each session's first logout
	var mu sync.Mutex
	parts := map[int][]activeBucket{}
	read := 0
	complete, err := plan.read(ctx, f.sendTo, partitionReader{
		lists: []func([]byte) (map[string]any, error){names.read(), func(raw []byte) (map[string]any, error) {
			var page []logoutBucket
			after, err := pageOf(raw, plan.lists[1].size, &page)
			for _, b := range page {
				logouts[sessionKey{b.Key.User, b.Key.Session}] = int64(b.At.Value)
			}
			return after, err
		}},
		page: func(i int, raw []byte) (map[string]any, error) {
			var page []activeBucket
			after, err := pageOf(raw, plan.size, &page)
			mu.Lock()
			parts[i] = append(parts[i], page...)
			mu.Unlock()
			return after, err
		},
		done: func(i int, s span) (bool, error) {
			mu.Lock()
			part := parts[i]
			delete(parts, i)
			mu.Unlock()
			for _, b := range part {
				if read == searchapi.MaxActiveBuckets {
					return false, nil
				}
				read++
				a := searchapi.ActiveBucket{User: b.Key.User, Session: b.Key.Session, First: int64(b.First.Value), Last: int64(b.Last.Value)}
				// The session's first logout is in this bucket if it
				// falls between its first and last action: the stretches
				// of one session do not overlap.
				if at, ok := logouts[sessionKey{a.User, a.Session}]; ok && a.First <= at && at <= a.Last {
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
