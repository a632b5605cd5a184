package detect

import (
	"context"
	"time"
)

// Store keeps what the detectors remember between events: sliding windows
// of events, each user's active hours, the places and sessions each user
// was seen in, and the cooldown claims of raised alerts. Every check is one
// atomic step, keyed and counted by event id and scored by the event's own
// time, so a redelivered event is never counted twice.
type Store interface {
	// Check applies every check, each slice in its order, in one round
	// trip (a few commands per batch, not one per check), and returns one result per check in the same layout. It
	// returns an error when the store cannot be reached or refuses a
	// check; then none of the results may be trusted, but the checks may
	// be sent again.
	Check(ctx context.Context, checks Checks) (Results, error)
	// Claim tries each cooldown claim in order, in one round trip, and
	// reports for each whether the alert may be raised: true when no other
	// alert was claimed under its key within its cooldown of its time, or
	// when this very alert already holds the claim (a retried or replayed
	// batch). It returns an error when the store cannot be reached.
	Claim(ctx context.Context, claims []Claim) ([]bool, error)
}

// Checks is the work one batch gives the store. Each kind keeps its own
// keys, so only the order within a kind matters.
type Checks struct {
	Windows   []WindowCheck
	Hours     []HourCheck
	Locations []LocationCheck
	Sessions  []SessionCheck
}

// Results are the answers to Checks, in the same layout.
type Results struct {
	Windows   []WindowResult
	Hours     []HourResult
	Locations []LocationResult
	Sessions  []SessionResult
}

// Len is the number of checks.
func (c Checks) Len() int {
	return len(c.Windows) + len(c.Hours) + len(c.Locations) + len(c.Sessions)
}

// WindowCheck counts one event in a sliding window.
type WindowCheck struct {
	Key     string
	EventID string
	At      time.Time
	// Window is the span counted: events at [At-Window, At].
	Window time.Duration
	// Keep is how long members stay before At and the key stays idle.
	Keep time.Duration
	// Last is how many event ids to return, the latest ones, once the
	// count reaches ListFrom; below it none are read (a count that raises
	// no alert needs no ids).
	Last     int
	ListFrom int64
}

// WindowResult is how many events the window holds in [At-Window, At]
// once the event is in, and, when that count reaches the check's
// ListFrom, the latest Last of their ids, oldest first.
type WindowResult struct {
	Count    int64
	EventIDs []string
}

// HourCheck records that a user was active in one hour of one day, and
// asks which hours they were active in on earlier days.
type HourCheck struct {
	Key string
	// Day is the event's day in the workspace's time zone (YYYYMMDD) and
	// Hour its hour of the day (0-23); HourStart is when that hour began.
	Day       string
	Hour      int
	HourStart time.Time
	// Since and DayStart bound the history asked about: hours that began
	// in [Since, DayStart), so never the event's own day.
	Since, DayStart time.Time
	Keep            time.Duration
}

// HourResult says on how many distinct days in [Since, DayStart) the user
// was active, and on how many of those within an hour of Hour (the hour
// before, the hour itself, the hour after).
type HourResult struct {
	Days         int
	DaysNearHour int
}

// LocationCheck records the places (such as "country:DE" and
// "network:Example Telecom") a user's event came from.
type LocationCheck struct {
	Key     string
	EventID string
	Places  []string
	Keep    time.Duration
}

// LocationResult says whether the event is the user's first located one
// (the baseline, never unusual), and which of its places no earlier event
// introduced. A replay of the event that introduced a place reports the
// place again; a replay of the baseline reports none.
type LocationResult struct {
	Baseline bool
	New      []string
}

// SessionCheck records that a user's session was seen, or ended.
type SessionCheck struct {
	Key       string
	SessionID string
	EventID   string
	IP        string
	At        time.Time
	// End removes the session (a logout) instead of recording it.
	End bool
	// Window is the span counted: sessions last seen at [At-Window, At].
	Window time.Duration
	Keep   time.Duration
	// Last is how many sessions to return, the latest ones, once the
	// count reaches ListFrom; below it none are read.
	Last     int
	ListFrom int64
}

// SessionResult counts the sessions last seen in [At-Window, At] and,
// when that count reaches the check's ListFrom, lists the latest Last of
// them, oldest first; both are empty for an ending session.
type SessionResult struct {
	Count    int64
	Sessions []Session
}

// Session is one session as last seen.
type Session struct {
	ID       string
	EventID  string
	IP       string
	LastSeen time.Time
}

// Claim asks to raise alert AlertID for the subject of Key at At, unless
// another alert of that key was claimed within Cooldown of At (in event
// time). Claims stay for Keep, so a stream replayed within Keep raises
// nothing new.
type Claim struct {
	Key      string
	AlertID  string
	At       time.Time
	Cooldown time.Duration
	Keep     time.Duration
}
