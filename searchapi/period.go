package searchapi

import (
	"math"
	"strings"
	"sync"
	"time"

	activity "github.com/fluxera/activity"
)

// Ranges are the named periods a caller may ask for, each the given number
// of whole days up to and including today in the workspace's time zone.
var Ranges = map[string]int{"today": 1, "7d": 7, "30d": 30, "90d": 90}

// DefaultRange is the period of an analysis that names none.
const DefaultRange = "30d"

// MaxPeriodYears is the longest period an analysis may cover.
const MaxPeriodYears = 2

// Interval is the width of the buckets of a series over time.
type Interval string

// Intervals, finest first.
const (
	IntervalHour  Interval = "hour"
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
)

var intervals = []Interval{IntervalHour, IntervalDay, IntervalWeek, IntervalMonth}

// A series over time aims at between MinBuckets and MaxBuckets buckets.
const (
	MinBuckets = 30
	MaxBuckets = 200
)

// PeriodQuery is a period as a caller writes it: either From and To, each
// an RFC 3339 time or a YYYY-MM-DD date in the workspace's time zone, or
// one of Ranges; neither means DefaultRange.
type PeriodQuery struct {
	From  string
	To    string
	Range string
}

// Period is the stretch of time an analysis covers: From included, To
// excluded, both in Location, the workspace's time zone.
type Period struct {
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	TimeZone string         `json:"time_zone"`
	Location *time.Location `json:"-"`
}

var zones sync.Map // time zone name → *time.Location

// Zone returns the time zone named name, or UTC when the name is empty or
// unknown.
func Zone(name string) *time.Location {
	if name == "" || name == "Local" {
		return time.UTC
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// ResolvePeriod turns q into a period as of now in loc. A date as From is
// the start of that day; a date as To includes that whole day. It returns
// EINVALID naming the bad field: range with from or to, an unknown range, a
// bad or missing from or to, a to not after from, a period longer than
// MaxPeriodYears, or one outside the years 1 to 9999.
func ResolvePeriod(q PeriodQuery, now time.Time, loc *time.Location) (Period, error) {
	if q.Range != "" && (q.From != "" || q.To != "") {
		return Period{}, activity.Errorf(activity.EINVALID, "range", "give either range or from and to, not both")
	}
	if q.From == "" && q.To == "" {
		name := q.Range
		if name == "" {
			name = DefaultRange
		}
		days, ok := Ranges[name]
		if !ok {
			return Period{}, activity.Errorf(activity.EINVALID, "range", "range must be one of today, 7d, 30d, 90d")
		}
		today := startOfDay(now.In(loc))
		return newPeriod(today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1), loc), nil
	}
	if q.From == "" {
		return Period{}, activity.Errorf(activity.EINVALID, "from", "from is required with to")
	}
	if q.To == "" {
		return Period{}, activity.Errorf(activity.EINVALID, "to", "to is required with from")
	}
	from, ok := parseMoment(q.From, loc, false)
	if !ok {
		return Period{}, activity.Errorf(activity.EINVALID, "from", "from must be a date (YYYY-MM-DD) or a time (RFC 3339)")
	}
	to, ok := parseMoment(q.To, loc, true)
	if !ok {
		return Period{}, activity.Errorf(activity.EINVALID, "to", "to must be a date (YYYY-MM-DD) or a time (RFC 3339)")
	}
	p := newPeriod(from, to, loc)
	if err := p.Validate(); err != nil {
		return Period{}, err
	}
	return p, nil
}

func newPeriod(from, to time.Time, loc *time.Location) Period {
	return Period{From: from.In(loc), To: to.In(loc), TimeZone: loc.String(), Location: loc}
}

// parseMoment reads an RFC 3339 time, or a date in loc: its start, or with
// end set the start of the next day.
func parseMoment(s string, loc *time.Location, end bool) (time.Time, bool) {
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, true
	}
	// A + left unencoded in a query string arrives as a space; RFC 3339
	// has no spaces, so none is lost by reading it back as +.
	t, err := time.Parse(time.RFC3339, strings.ReplaceAll(s, " ", "+"))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Validate reports whether the period can be analysed: known bounds, To
// after From, at most MaxPeriodYears, within the years 1 to 9999 of its
// time zone. It returns EINVALID naming from or to otherwise.
func (p Period) Validate() error {
	if p.Location == nil {
		return activity.Errorf(activity.EINVALID, "range", "the period is missing")
	}
	if !p.To.After(p.From) {
		return activity.Errorf(activity.EINVALID, "to", "to must be after from")
	}
	if p.To.After(p.From.In(p.Location).AddDate(MaxPeriodYears, 0, 0)) {
		return activity.Errorf(activity.EINVALID, "to", "the period may be at most %d years long", MaxPeriodYears)
	}
	if y := p.From.In(p.Location).Year(); y < 1 {
		return activity.Errorf(activity.EINVALID, "from", "from must be in the year 1 or later")
	}
	if p.To.In(p.Location).Year() > 9999 {
		return activity.Errorf(activity.EINVALID, "to", "to must be before the year 10000")
	}
	return nil
}

// Interval is the bucket width of a series over the period: the one whose
// number of buckets lies between MinBuckets and MaxBuckets or, when none
// does, comes closest to that band; of two equally close, the finer.
func (p Period) Interval() Interval {
	best, bestDistance := IntervalHour, math.Inf(1)
	for _, iv := range intervals {
		n := float64(Buckets(p.From, p.To, iv, p.Location))
		var d float64
		switch {
		case n < MinBuckets:
			d = math.Log(MinBuckets / n)
		case n > MaxBuckets:
			d = math.Log(n / MaxBuckets)
		}
		if d < bestDistance {
			best, bestDistance = iv, d
		}
	}
	return best
}

// bucketLimit stops counting buckets long after the count stopped mattering.
const bucketLimit = 100 * MaxBuckets

// Buckets is the number of buckets of width iv in loc that [from, to)
// touches, counted as a date histogram in that time zone counts them: days
// of 23 or 25 hours are one bucket, hours repeated by a clock change two.
// Counts above 100 times MaxBuckets are not told apart.
func Buckets(from, to time.Time, iv Interval, loc *time.Location) int {
	n := 0
	for t := BucketStart(from, iv, loc); t.Before(to) && n < bucketLimit; t = nextBucket(t, iv, loc) {
		n++
	}
	return n
}

// BucketStarts are the starts of the buckets of width iv in loc that
// [from, to) touches, as a date histogram in that time zone makes them.
// It stops after 100 times MaxBuckets.
func BucketStarts(from, to time.Time, iv Interval, loc *time.Location) []time.Time {
	var out []time.Time
	for t := BucketStart(from, iv, loc); t.Before(to) && len(out) < bucketLimit; t = nextBucket(t, iv, loc) {
		out = append(out, t)
	}
	return out
}

// BucketStart is the start of the bucket of width iv in loc holding t:
// the hour, the day, the week from Monday, or the month.
func BucketStart(t time.Time, iv Interval, loc *time.Location) time.Time {
	t = t.In(loc)
	switch iv {
	case IntervalHour:
		return t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	case IntervalWeek:
		day := startOfDay(t)
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case IntervalMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	}
	return startOfDay(t)
}

func nextBucket(t time.Time, iv Interval, loc *time.Location) time.Time {
	switch iv {
	case IntervalHour:
		// Absolute hours: local hours, a repeated one included, are one
		// hour long wherever clocks move by whole hours.
		return t.Add(time.Hour)
	case IntervalWeek:
		return t.AddDate(0, 0, 7)
	case IntervalMonth:
		return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
	}
	return t.AddDate(0, 0, 1)
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}
