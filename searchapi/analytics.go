package searchapi

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// Limits of the lists an analysis returns.
const (
	// DefaultTopLimit and MaxTopLimit bound the most active users and the
	// most modified assets.
	DefaultTopLimit = 10
	MaxTopLimit     = 100
)

// AssetChanges are the asset actions that change an asset, counted by the
// most modified assets.
var AssetChanges = []string{
	"asset.created", "asset.updated", "asset.deleted", "asset.assigned", "asset.unassigned",
	"asset.status_changed", "asset.maintenance_scheduled", "asset.maintenance_completed",
	"asset.image_uploaded",
}

// Categories are every category an action can fall in, the keys of a
// timeline split by category.
var Categories = []string{
	activity.CategoryAsset, activity.CategoryLicense, activity.CategoryUser,
	activity.CategoryAuth, activity.CategorySystem,
}

// AnalyticsFilter says what an analysis covers.
type AnalyticsFilter struct {
	Period Period
	// Limit is the length of a top list; zero means DefaultTopLimit.
	Limit int
	// ByCategory splits a timeline by category.
	ByCategory bool
	// Idle is how long an action keeps its session active in the time
	// spent; zero means DefaultIdle.
	Idle time.Duration
}

// Validate checks the period and fills in the default limit. It returns
// EINVALID naming the bad field.
func (f *AnalyticsFilter) Validate() error {
	if err := f.Period.Validate(); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = DefaultTopLimit
	}
	if f.Limit < 1 || f.Limit > MaxTopLimit {
		return activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", MaxTopLimit)
	}
	if f.Idle == 0 {
		f.Idle = DefaultIdle
	}
	if f.Idle < MinIdle || f.Idle > MaxIdle || f.Idle%time.Minute != 0 {
		return activity.Errorf(activity.EINVALID, "idle", "idle must be a whole number of minutes between %d and %d", int(MinIdle/time.Minute), int(MaxIdle/time.Minute))
	}
	return nil
}

// Heatmap counts actions by day of week and hour of day in the workspace's
// time zone.
type Heatmap struct {
	Period Period `json:"period"`
	Total  int64  `json:"total"`
	// Counts[d][h] is the number of actions on day d+1 (1 = Monday …
	// 7 = Sunday) in hour h (0–23).
	Counts [7][24]int64 `json:"counts"`
}

// Timeline counts actions per bucket of time.
type Timeline struct {
	Period   Period           `json:"period"`
	Interval Interval         `json:"interval"`
	Total    int64            `json:"total"`
	Buckets  []TimelineBucket `json:"buckets"`
}

// TimelineBucket is one bucket of a timeline, from Start to the next
// bucket's start. Categories, when the timeline is split, holds a count
// for each of Categories.
type TimelineBucket struct {
	Start      time.Time        `json:"start"`
	Count      int64            `json:"count"`
	Categories map[string]int64 `json:"categories,omitempty"`
}

// TopUsers are the most active users, busiest first.
type TopUsers struct {
	Period Period      `json:"period"`
	Total  int64       `json:"total"`
	Users  []UserCount `json:"users"`
}

// UserCount is how many actions a user took; the name and email are those
// of their latest action.
type UserCount struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Count int64  `json:"count"`
}

// TopAssets are the most modified assets, most changed first.
type TopAssets struct {
	Period Period       `json:"period"`
	Total  int64        `json:"total"`
	Assets []AssetCount `json:"assets"`
}

// AssetCount is how many changes an asset had, in all and per action; the
// name is the one of its latest change.
type AssetCount struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Count   int64            `json:"count"`
	Actions map[string]int64 `json:"actions"`
}

// UsagePrecision is the precision threshold of the approximate count of
// distinct users in a usage answer: OpenSearch's cardinality aggregation
// counts close to exactly up to it, and within a few percent above.
const UsagePrecision = 3000

// Usage is how much each feature is used: actions per category and per
// action, with the number of distinct users behind them, busiest first.
// The counts of actions are exact; the users are counted approximately,
// with the precision threshold UsersPrecisionThreshold.
type Usage struct {
	Period                  Period          `json:"period"`
	Total                   int64           `json:"total"`
	UsersApproximate        bool            `json:"users_approximate"`
	UsersPrecisionThreshold int             `json:"users_precision_threshold"`
	Categories              []CategoryUsage `json:"categories"`
	Actions                 []ActionUsage   `json:"actions"`
}

// CategoryUsage is the use of one category.
type CategoryUsage struct {
	Category string `json:"category"`
	Count    int64  `json:"count"`
	Users    int64  `json:"users"`
}

// ActionUsage is the use of one action.
type ActionUsage struct {
	Action   string `json:"action"`
	Category string `json:"category"`
	Count    int64  `json:"count"`
	Users    int64  `json:"users"`
}

// Logins counts logins and failed logins per bucket of time.
type Logins struct {
	Period   Period        `json:"period"`
	Interval Interval      `json:"interval"`
	Logins   int64         `json:"logins"`
	Failed   int64         `json:"failed"`
	Buckets  []LoginBucket `json:"buckets"`
}

// LoginBucket is one bucket of Logins.
type LoginBucket struct {
	Start  time.Time `json:"start"`
	Logins int64     `json:"logins"`
	Failed int64     `json:"failed"`
}

// PeakTimes are every hour of day and every day of week, busiest first.
type PeakTimes struct {
	Period Period      `json:"period"`
	Total  int64       `json:"total"`
	Hours  []HourCount `json:"hours"`
	Days   []DayCount  `json:"days"`
}

// HourCount is the number of actions in one hour of day (0–23).
type HourCount struct {
	Hour  int   `json:"hour"`
	Count int64 `json:"count"`
}

// DayCount is the number of actions on one day of week (1 = Monday).
type DayCount struct {
	Day   int   `json:"day"`
	Count int64 `json:"count"`
}

// TimeSpent is the time users were active in the period, most first. A
// user is active from each of their actions until Idle later, or until
// the session of that action is logged out if that comes first; a user's
// time is the union of these intervals over all their sessions, so
// sessions that overlap count once, and no user can be active for longer
// than the period. Only actions with a user and a session count, and only
// within the period.
type TimeSpent struct {
	Period      Period  `json:"period"`
	IdleMinutes float64 `json:"idle_minutes"`
	// Sessions is the number of distinct sessions with actions in the
	// period, over all users.
	Sessions int64 `json:"sessions"`
	// ActiveMS and TotalMinutes are the sum of the users' active time;
	// ActiveMS is exact, TotalMinutes rounded to a tenth.
	ActiveMS     int64   `json:"active_ms"`
	TotalMinutes float64 `json:"total_minutes"`
	// Complete is false when the period held more than MaxActiveBuckets
	// stretches of idle time with actions, and only the first were read,
	// in time order.
	Complete bool `json:"complete"`
	// Days is the active time of all users per calendar day in the
	// workspace's time zone, days without any left out.
	Days  []DayTime  `json:"days"`
	Users []UserTime `json:"users"`
}

// UserTime is one user's active time in the period: the union of their
// active intervals, in all and per calendar day.
type UserTime struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Sessions int64  `json:"sessions"`
	ActiveMS int64  `json:"active_ms"`
	// TotalMinutes is ActiveMS in minutes and AverageMinutes that over
	// Sessions, both rounded to a tenth.
	TotalMinutes   float64   `json:"total_minutes"`
	AverageMinutes float64   `json:"average_minutes"`
	Days           []DayTime `json:"days"`
}

// DayTime is the active time on one calendar day (YYYY-MM-DD) in the
// workspace's time zone.
type DayTime struct {
	Date     string  `json:"date"`
	ActiveMS int64   `json:"active_ms"`
	Minutes  float64 `json:"minutes"`
}

// Analyst computes the analytics of the activity log. Every method covers
// only the actions p may see — the workspace's for owners and admins,
// their own for others — within f.Period, and returns EINVALID for a bad
// filter and EUNAVAILABLE when the index cannot answer for now.
type Analyst interface {
	// Heatmap counts actions by day of week and hour of day.
	Heatmap(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Heatmap, error)
	// Timeline counts actions per Period.Interval, by category when
	// f.ByCategory is set.
	Timeline(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Timeline, error)
	// TopUsers returns the f.Limit most active users.
	TopUsers(ctx context.Context, p activity.Principal, f AnalyticsFilter) (TopUsers, error)
	// TopAssets returns the f.Limit most modified assets.
	TopAssets(ctx context.Context, p activity.Principal, f AnalyticsFilter) (TopAssets, error)
	// Usage counts actions per category and per action.
	Usage(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Usage, error)
	// Logins counts logins and failed logins per Period.Interval.
	Logins(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Logins, error)
	// PeakTimes ranks the hours of day and days of week.
	PeakTimes(ctx context.Context, p activity.Principal, f AnalyticsFilter) (PeakTimes, error)
	// TimeSpent measures each user's active time, exactly, reading every
	// stretch of idle time with actions up to MaxActiveBuckets.
	TimeSpent(ctx context.Context, p activity.Principal, f AnalyticsFilter) (TimeSpent, error)
	// Engagement counts active users per day, week and month, their
	// logins and the features they used, exactly.
	Engagement(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Engagement, error)
	// Workflows counts the sequences of two and three actions taken one
	// after the other within sessions and returns the f.Limit most
	// frequent, exactly, reading up to MaxInsightEvents actions.
	Workflows(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Workflows, error)
	// TaskTimes measures the time from the start to the end of each of
	// Tasks, exactly, reading up to MaxInsightEvents starts and ends.
	TaskTimes(ctx context.Context, p activity.Principal, f AnalyticsFilter) (TaskTimes, error)
	// Assignments counts the assignments of assets and license seats by
	// who made them, to whom and when, exactly, reading up to
	// MaxInsightEvents assignments.
	Assignments(ctx context.Context, p activity.Principal, f AnalyticsFilter) (Assignments, error)
}
