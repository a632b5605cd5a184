package searchapi

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestResolvePeriod(t *testing.T) {
	berlin, newYork := mustZone(t, "Europe/Berlin"), mustZone(t, "America/New_York")
	// Sundays on which Berlin's clocks move: forward in March, back in October.
	springForward := mustTime(t, "2026-03-29T15:00:00+02:00")
	fallBack := mustTime(t, "2026-10-25T12:00:00+01:00")
	tests := []struct {
		name     string
		q        PeriodQuery
		now      time.Time
		loc      *time.Location
		from, to string
		hours    float64
		interval Interval
		buckets  int
	}{
		{"today with an hour less", PeriodQuery{Range: "today"}, springForward, berlin,
			"2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23, IntervalHour, 23},
		{"today with an hour more", PeriodQuery{Range: "today"}, fallBack, berlin,
			"2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25, IntervalHour, 25},
		{"seven days across the change", PeriodQuery{Range: "7d"}, springForward, berlin,
			"2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 167, IntervalHour, 167},
		{"thirty days by default", PeriodQuery{}, springForward, berlin,
			"2026-02-28T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 30*24 - 1, IntervalDay, 30},
		{"ninety days", PeriodQuery{Range: "90d"}, fallBack, berlin,
			"2026-07-28T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 90*24 + 1, IntervalDay, 90},
		{"today is the workspace's today", PeriodQuery{Range: "today"}, mustTime(t, "2026-03-10T02:00:00Z"), newYork,
			"2026-03-09T00:00:00-04:00", "2026-03-10T00:00:00-04:00", 24, IntervalHour, 24},
		{"dates include the last day", PeriodQuery{From: "2026-10-01", To: "2026-10-31"}, fallBack, berlin,
			"2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00", 31*24 + 1, IntervalDay, 31},
		{"one date", PeriodQuery{From: "2026-11-01", To: "2026-11-01"}, fallBack, newYork,
			"2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25, IntervalHour, 25},
		{"ten days by the hour", PeriodQuery{From: "2026-03-01", To: "2026-03-10"}, fallBack, berlin,
			"2026-03-01T00:00:00+01:00", "2026-03-11T00:00:00+01:00", 240, IntervalHour, 240},
		{"twenty days by the day", PeriodQuery{From: "2026-03-01", To: "2026-03-20"}, fallBack, berlin,
			"2026-03-01T00:00:00+01:00", "2026-03-21T00:00:00+01:00", 480, IntervalDay, 20},
		{"a year by the week", PeriodQuery{From: "2025-01-01", To: "2025-12-31"}, fallBack, berlin,
			"2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00", 365 * 24, IntervalWeek, 53},
		{"two years exactly", PeriodQuery{From: "2024-03-01", To: "2026-02-28"}, fallBack, berlin,
			"2024-03-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00", 730 * 24, IntervalWeek, 105},
		{"times across the missing hour", PeriodQuery{From: "2026-03-29T01:30:00+01:00", To: "2026-03-29T03:30:00+02:00"}, fallBack, berlin,
			"2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", 1, IntervalHour, 2},
		{"the last hour of the year 9999", PeriodQuery{From: "9999-12-31T00:00:00+01:00", To: "9999-12-31T23:00:00+01:00"}, fallBack, berlin,
			"9999-12-31T00:00:00+01:00", "9999-12-31T23:00:00+01:00", 23, IntervalHour, 23},
		{"the year 1", PeriodQuery{From: "0001-01-01", To: "0001-01-02"}, fallBack, time.UTC,
			"0001-01-01T00:00:00Z", "0001-01-03T00:00:00Z", 48, IntervalHour, 48},
		{"an unencoded plus", PeriodQuery{From: "2026-03-01T00:00:00 01:00", To: "2026-03-02T00:00:00Z"}, fallBack, berlin,
			"2026-03-01T00:00:00+01:00", "2026-03-02T01:00:00+01:00", 25, IntervalHour, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ResolvePeriod(tt.q, tt.now, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.From.Format(time.RFC3339); got != tt.from {
				t.Errorf("from = %s, want %s", got, tt.from)
			}
			if got := p.To.Format(time.RFC3339); got != tt.to {
				t.Errorf("to = %s, want %s", got, tt.to)
			}
			if got := p.To.Sub(p.From).Hours(); got != tt.hours {
				t.Errorf("length = %vh, want %vh", got, tt.hours)
			}
			if p.TimeZone != tt.loc.String() {
				t.Errorf("time zone = %q", p.TimeZone)
			}
			if got := p.Interval(); got != tt.interval {
				t.Errorf("interval = %s, want %s", got, tt.interval)
			}
			if got := Buckets(p.From, p.To, p.Interval(), p.Location); got != tt.buckets {
				t.Errorf("buckets = %d, want %d", got, tt.buckets)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("the resolved period is not valid: %v", err)
			}
		})
	}
}

func TestResolvePeriodRefusesBadInput(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	now := mustTime(t, "2026-03-29T15:00:00+02:00")
	tests := []struct {
		name  string
		q     PeriodQuery
		field string
	}{
		{"unknown range", PeriodQuery{Range: "yesterday"}, "range"},
		{"range in days not offered", PeriodQuery{Range: "14d"}, "range"},
		{"range and dates", PeriodQuery{Range: "7d", From: "2026-03-01"}, "range"},
		{"from without to", PeriodQuery{From: "2026-03-01"}, "to"},
		{"to without from", PeriodQuery{To: "2026-03-01"}, "from"},
		{"no such day", PeriodQuery{From: "2026-02-30", To: "2026-03-01"}, "from"},
		{"day first", PeriodQuery{From: "01.03.2026", To: "2026-03-02"}, "from"},
		{"words", PeriodQuery{From: "2026-03-01", To: "soon"}, "to"},
		{"time without zone", PeriodQuery{From: "2026-03-01T10:00:00", To: "2026-03-02"}, "from"},
		{"to before from", PeriodQuery{From: "2026-03-02", To: "2026-03-01"}, "to"},
		{"to at from", PeriodQuery{From: "2026-03-02T10:00:00Z", To: "2026-03-02T11:00:00+01:00"}, "to"},
		{"a day over two years", PeriodQuery{From: "2024-03-01", To: "2026-03-01"}, "to"},
		{"centuries", PeriodQuery{From: "0001-01-01", To: "9999-12-31"}, "to"},
		{"past the year 9999", PeriodQuery{From: "9998-06-01", To: "9999-12-31"}, "to"},
		{"before the year 1", PeriodQuery{From: "0000-01-01T00:00:00+01:00", To: "0000-06-01"}, "from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolvePeriod(tt.q, now, berlin)
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field || activity.ErrorMessage(err) == "" {
				t.Errorf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestBucketStart(t *testing.T) {
	berlin, kolkata := mustZone(t, "Europe/Berlin"), mustZone(t, "Asia/Kolkata")
	tests := []struct {
		t        string
		iv       Interval
		loc      *time.Location
		want     string
		nextHour string
	}{
		{"2026-03-29T15:20:00+02:00", IntervalHour, berlin, "2026-03-29T15:00:00+02:00", ""},
		{"2026-03-29T10:45:00+05:30", IntervalHour, kolkata, "2026-03-29T10:00:00+05:30", ""},
		{"2026-03-29T15:20:00+02:00", IntervalDay, berlin, "2026-03-29T00:00:00+01:00", ""},
		{"2026-03-29T15:20:00+02:00", IntervalWeek, berlin, "2026-03-23T00:00:00+01:00", ""},
		{"2026-03-23T00:00:00+01:00", IntervalWeek, berlin, "2026-03-23T00:00:00+01:00", ""},
		{"2026-03-31T10:00:00+02:00", IntervalMonth, berlin, "2026-03-01T00:00:00+01:00", ""},
		// Late on the last of the month in Berlin is already the next
		// month in UTC's eyes, not in the workspace's.
		{"2026-03-31T23:30:00+02:00", IntervalMonth, berlin, "2026-03-01T00:00:00+01:00", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.iv)+" of "+tt.t, func(t *testing.T) {
			if got := BucketStart(mustTime(t, tt.t), tt.iv, tt.loc).Format(time.RFC3339); got != tt.want {
				t.Errorf("start = %s, want %s", got, tt.want)
			}
		})
	}
	// The hour Berlin repeats in October is two buckets, the one it skips
	// in March none.
	if n := Buckets(mustTime(t, "2026-10-25T02:00:00+02:00"), mustTime(t, "2026-10-25T03:00:00+01:00"), IntervalHour, berlin); n != 2 {
		t.Errorf("repeated hour = %d buckets, want 2", n)
	}
	if n := Buckets(mustTime(t, "2026-03-29T01:00:00+01:00"), mustTime(t, "2026-03-29T04:00:00+02:00"), IntervalHour, berlin); n != 2 {
		t.Errorf("skipped hour = %d buckets, want 2", n)
	}
}

func TestZoneFallsBackToUTC(t *testing.T) {
	for _, name := range []string{"", "Local", "Mars/Olympus_Mons"} {
		if got := Zone(name); got != time.UTC {
			t.Errorf("Zone(%q) = %s, want UTC", name, got)
		}
	}
	if got := Zone("Europe/Berlin").String(); got != "Europe/Berlin" {
		t.Errorf("Zone(Europe/Berlin) = %s", got)
	}
}

func TestAnalyticsFilterLimit(t *testing.T) {
	p, err := ResolvePeriod(PeriodQuery{}, time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		limit, want int
		ok          bool
	}{{0, DefaultTopLimit, true}, {1, 1, true}, {MaxTopLimit, MaxTopLimit, true}, {-1, 0, false}, {MaxTopLimit + 1, 0, false}} {
		f := AnalyticsFilter{Period: p, Limit: tt.limit}
		err := f.Validate()
		if tt.ok && (err != nil || f.Limit != tt.want) {
			t.Errorf("limit %d: %v, limit %d", tt.limit, err, f.Limit)
		}
		if !tt.ok && activity.ErrorField(err) != "limit" {
			t.Errorf("limit %d: err = %v, want invalid limit", tt.limit, err)
		}
	}
	if err := (&AnalyticsFilter{}).Validate(); activity.ErrorCode(err) != activity.EINVALID {
		t.Errorf("a filter without a period: %v", err)
	}
}
