package report

import (
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// How often a custom report is generated.
const (
	EveryDay   = "daily"
	EveryWeek  = "weekly"
	EveryMonth = "monthly"
)

// Schedule says when a custom report is generated: every day, every week
// on a weekday, or every month on a day, at a whole hour of the
// workspace's time zone.
type Schedule struct {
	// Frequency is EveryDay, EveryWeek or EveryMonth.
	Frequency string `json:"frequency"`
	// Weekday is the day of a weekly schedule: monday … sunday.
	Weekday string `json:"weekday,omitempty"`
	// Day is the day of the month of a monthly schedule, 1 to 31; in a
	// shorter month the report is generated on its last day.
	Day int `json:"day,omitempty"`
	// Hour is the hour of the day, 0 to 23.
	Hour int `json:"hour"`
}

// weekdayNames are the weekdays as a schedule names them, by time.Weekday.
var weekdayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Validate puts the schedule in its one form and checks it. It returns
// EINVALID naming schedule.frequency, schedule.weekday, schedule.day or
// schedule.hour.
func (s *Schedule) Validate() error {
	s.Frequency = strings.ToLower(strings.TrimSpace(s.Frequency))
	s.Weekday = strings.ToLower(strings.TrimSpace(s.Weekday))
	if s.Hour < 0 || s.Hour > 23 {
		return activity.Errorf(activity.EINVALID, "schedule.hour", "schedule.hour must be a whole hour from 0 to 23")
	}
	switch s.Frequency {
	case EveryDay:
		if s.Weekday != "" || s.Day != 0 {
			return activity.Errorf(activity.EINVALID, "schedule.frequency", "a daily schedule takes an hour only, neither a weekday nor a day")
		}
	case EveryWeek:
		if s.Day != 0 {
			return activity.Errorf(activity.EINVALID, "schedule.day", "a weekly schedule takes a weekday, not a day of the month")
		}
		if _, ok := weekday(s.Weekday); !ok {
			return activity.Errorf(activity.EINVALID, "schedule.weekday", "schedule.weekday must be monday, tuesday, wednesday, thursday, friday, saturday or sunday")
		}
	case EveryMonth:
		if s.Weekday != "" {
			return activity.Errorf(activity.EINVALID, "schedule.weekday", "a monthly schedule takes a day of the month, not a weekday")
		}
		if s.Day < 1 || s.Day > 31 {
			return activity.Errorf(activity.EINVALID, "schedule.day", "schedule.day must be a day of the month from 1 to 31")
		}
	case "":
		return activity.Errorf(activity.EINVALID, "schedule.frequency", "schedule.frequency is required: daily, weekly or monthly")
	default:
		return activity.Errorf(activity.EINVALID, "schedule.frequency", "schedule.frequency must be daily, weekly or monthly")
	}
	return nil
}

func weekday(name string) (time.Weekday, bool) {
	for d, n := range weekdayNames {
		if n == name {
			return time.Weekday(d), true
		}
	}
	return 0, false
}

// String says the schedule in words: "every Monday at 08:00".
func (s Schedule) String() string {
	at := " at " + twoDigits(s.Hour) + ":00"
	switch s.Frequency {
	case EveryDay:
		return "every day" + at
	case EveryWeek:
		return "every " + strings.ToUpper(s.Weekday[:1]) + s.Weekday[1:] + at
	case EveryMonth:
		return "every month on day " + itoa(s.Day) + at
	}
	return s.Frequency
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

func itoa(n int) string { return count(int64(n)) }

// Next is the first time the schedule is due strictly after t, in loc. A
// due hour that a clock change skips is the first moment after the gap
// (02:00 on the spring day of Europe/Berlin is 03:00 CEST); one that a
// clock change repeats is its first occurrence.
func (s Schedule) Next(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, loc)
	// A monthly schedule is due within 31 days; two months are enough for
	// any day of the month and any clock change.
	for i := 0; i <= 62; i++ {
		d := day.AddDate(0, 0, i)
		if !s.dueOn(d) {
			continue
		}
		if at := s.at(d, loc); at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// Latest is the last time the schedule was due at or before t, in loc:
// the time a run that catches up on missed ones is for.
func (s Schedule) Latest(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, loc)
	for i := 0; i <= 62; i++ {
		d := day.AddDate(0, 0, -i)
		if !s.dueOn(d) {
			continue
		}
		if at := s.at(d, loc); !at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// dueOn reports whether the schedule is due on the calendar day of d.
func (s Schedule) dueOn(d time.Time) bool {
	switch s.Frequency {
	case EveryDay:
		return true
	case EveryWeek:
		wd, _ := weekday(s.Weekday)
		return d.Weekday() == wd
	case EveryMonth:
		last := time.Date(d.Year(), d.Month()+1, 0, 12, 0, 0, 0, d.Location()).Day()
		return d.Day() == min(s.Day, last)
	}
	return false
}

// at is the schedule's hour on the calendar day of d in loc.
func (s Schedule) at(d time.Time, loc *time.Location) time.Time {
	return wallTime(d.Year(), d.Month(), d.Day(), s.Hour, loc)
}

// wallTime is the first moment the clocks of loc show hour:00 on the given
// day or, when a clock change skips that hour, the moment they jump past
// it. time.Date leaves both cases to chance.
func wallTime(year int, month time.Month, day, hour int, loc *time.Location) time.Time {
	naive := time.Date(year, month, day, hour, 0, 0, 0, time.UTC)
	// The offsets the zone has around that day: the instants that could
	// show that time are the naive one less each of them.
	var candidates []time.Time
	for _, probe := range []time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		candidates = append(candidates, naive.Add(-time.Duration(off)*time.Second).In(loc))
	}
	shows := func(t time.Time) bool {
		return t.Year() == year && t.Month() == month && t.Day() == day && t.Hour() == hour && t.Minute() == 0 && t.Second() == 0
	}
	var first time.Time
	for _, t := range candidates {
		if shows(t) && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if !first.IsZero() {
		return first
	}
	// Skipped: the clocks jump past the hour when a zone starts.
	for _, t := range candidates {
		start, _ := t.ZoneBounds()
		before := start.Add(-time.Second)
		after := time.Date(year, month, day, hour, 0, 0, 0, time.UTC)
		if start.IsZero() || !sameDay(start, year, month, day) {
			continue
		}
		if wall(start).After(after) && !wall(before).After(after) && (first.IsZero() || start.Before(first)) {
			first = start
		}
	}
	if !first.IsZero() {
		return first
	}
	return time.Date(year, month, day, hour, 0, 0, 0, loc)
}

// wall is the wall clock of t read as if it were UTC, for comparing wall
// clocks across a clock change.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func sameDay(t time.Time, year int, month time.Month, day int) bool {
	return t.Year() == year && t.Month() == month && t.Day() == day
}

// Periods a custom report covers, relative to the time it is generated
// for, in whole days of the workspace's time zone that end when the day of
// that time begins.
const (
	PeriodLastDay       = "last_day"
	PeriodLast7Days     = "last_7_days"
	PeriodLast30Days    = "last_30_days"
	PeriodLastMonth     = "last_calendar_month"
	defaultCustomPeriod = PeriodLast7Days
)

// Periods lists the periods a definition may name.
var Periods = []string{PeriodLastDay, PeriodLast7Days, PeriodLast30Days, PeriodLastMonth}

// PeriodAt resolves a named period for a report generated for at, in loc:
// the day before at's day, the seven or thirty days before it, or the
// calendar month before at's month. It returns EINVALID on field period for
// any other name.
func PeriodAt(name string, at time.Time, loc *time.Location) (searchapi.Period, error) {
	local := at.In(loc)
	daysBefore := func(n int) time.Time {
		d := time.Date(local.Year(), local.Month(), local.Day()-n, 12, 0, 0, 0, time.UTC)
		return wallTime(d.Year(), d.Month(), d.Day(), 0, loc)
	}
	var from, to time.Time
	switch name {
	case PeriodLastDay:
		from, to = daysBefore(1), daysBefore(0)
	case PeriodLast7Days:
		from, to = daysBefore(7), daysBefore(0)
	case PeriodLast30Days:
		from, to = daysBefore(30), daysBefore(0)
	case PeriodLastMonth:
		to = wallTime(local.Year(), local.Month(), 1, 0, loc)
		first := time.Date(local.Year(), local.Month()-1, 1, 12, 0, 0, 0, time.UTC)
		from = wallTime(first.Year(), first.Month(), 1, 0, loc)
	default:
		return searchapi.Period{}, activity.Errorf(activity.EINVALID, "period", "period must be one of %s", strings.Join(Periods, ", "))
	}
	return searchapi.Period{From: from, To: to, TimeZone: loc.String(), Location: loc}, nil
}
