package opensearch

import (
	"context"
	"fmt"
	"sort"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// The time spent reads every stretch of idle time in which a user acted in
// a session, through a composite aggregation by user, session and a
// date histogram as wide as the idle time, ordered so that each user's
// buckets arrive together and each session's in time order; it keeps only
// one user's intervals in memory at a time.

// activeBucket is one bucket of the time spent's composite aggregation.
type activeBucket struct {
	Key struct {
		User    string `json:"user"`
		Session string `json:"session"`
	} `json:"key"`
	First  moment `json:"first"`
	Last   moment `json:"last"`
	Logout struct {
		DocCount int64  `json:"doc_count"`
		At       moment `json:"at"`
	} `json:"logout"`
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
	"logout": map[string]any{
		"filter": term("action", "auth.logout"),
		"aggs":   map[string]any{"at": map[string]any{"min": map[string]any{"field": "occurred_at"}}},
	},
}

// TimeSpentRequest returns the search of the time spent's page after the
// key after (nil for the first), as TimeSpent sends it, so that a
// benchmark can send the very same requests straight to OpenSearch. It
// returns the errors TimeSpent returns for a missing principal and a bad
// filter.
func (f *Finder) TimeSpentRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := compositeBody(p, &filter, activeSources(filter.Idle), activeAggs, after, inSessions...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// TimeSpentNamesRequest returns the search of the page after the key
// after (nil for the first) of the users TimeSpent names, with their
// names, as TimeSpent sends it once it has read every minute, so that a
// benchmark can send the very same requests straight to OpenSearch.
func (f *Finder) TimeSpentNamesRequest(p activity.Principal, filter searchapi.AnalyticsFilter, after map[string]any) (Request, error) {
	if err := filter.Validate(); err != nil {
		return Request{}, err
	}
	body, err := namesBody(p, &filter, after, inSessions...)
	if err != nil {
		return Request{}, err
	}
	return f.request(body)
}

// TimeSpent measures each user's active time in the period: the union of
// the intervals their actions kept a session active, each action for
// filter.Idle unless its session was logged out sooner.
func (f *Finder) TimeSpent(ctx context.Context, p activity.Principal, filter searchapi.AnalyticsFilter) (searchapi.TimeSpent, error) {
	if err := filter.Validate(); err != nil {
		return searchapi.TimeSpent{}, err
	}
	from, to := filter.Period.From.UnixMilli(), filter.Period.To.UnixMilli()
	loc := filter.Period.Location
	if loc == nil {
		loc = searchapi.Zone(filter.Period.TimeZone)
	}
	ts := searchapi.TimeSpent{Period: filter.Period, IdleMinutes: filter.Idle.Minutes(), Days: []searchapi.DayTime{}, Users: []searchapi.UserTime{}}
	days := map[string]int64{}
	var user, session string
	var buckets []searchapi.ActiveBucket
	var intervals []searchapi.ActiveInterval
	var sessions int64
	endSession := func() {
		if len(buckets) > 0 {
			intervals = append(intervals, searchapi.SessionActivity(buckets, filter.Idle)...)
			sessions++
		}
		buckets = buckets[:0]
	}
	endUser := func() {
		endSession()
		if user == "" {
			return
		}
		union := searchapi.UnionOf(intervals, from, to)
		u := searchapi.UserTime{ID: user, Sessions: sessions, ActiveMS: searchapi.Length(union)}
		for date, n := range searchapi.ByDay(union, loc) {
			u.Days = append(u.Days, dayTime(date, n))
			days[date] += n
		}
		sort.Slice(u.Days, func(i, j int) bool { return u.Days[i].Date < u.Days[j].Date })
		ts.Users = append(ts.Users, u)
		ts.Sessions += sessions
		ts.ActiveMS += u.ActiveMS
		intervals, sessions = intervals[:0], 0
	}
	sources := activeSources(filter.Idle)
	complete, err := pageThrough(ctx, f, func(after map[string]any) (map[string]any, error) {
		return compositeBody(p, &filter, sources, activeAggs, after, inSessions...)
	}, searchapi.MaxActiveBuckets, func(b activeBucket) {
		if b.Key.User != user {
			endUser()
			user = b.Key.User
		} else if b.Key.Session != session {
			endSession()
		}
		session = b.Key.Session
		buckets = append(buckets, searchapi.ActiveBucket{
			User: b.Key.User, Session: b.Key.Session, First: int64(b.First.Value), Last: int64(b.Last.Value),
			Logout: int64(b.Logout.At.Value), HasLogout: b.Logout.DocCount > 0,
		})
	})
	if err != nil {
		return searchapi.TimeSpent{}, err
	}
	endUser()
	ts.Complete = complete
	if len(ts.Users) > 0 {
		names, err := f.names(ctx, p, &filter, inSessions...)
		if err != nil {
			return searchapi.TimeSpent{}, err
		}
		for i := range ts.Users {
			u := &ts.Users[i]
			a := names[u.ID]
			u.Name, u.Email = a.Name, a.Email
			u.TotalMinutes = minutesOf(u.ActiveMS)
			u.AverageMinutes = roundTenth(float64(u.ActiveMS) / float64(time.Minute/time.Millisecond) / float64(max(1, u.Sessions)))
		}
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
