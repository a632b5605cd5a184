package alert

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// WorkspaceConfig is what the detector needs to know about a workspace:
// when it works, how its detectors are tuned, and its alert rules.
type WorkspaceConfig struct {
	// Location is the workspace's time zone.
	Location *time.Location
	// WorkStart and WorkEnd are the working hours in minutes after
	// midnight; WorkingDays says which weekdays are worked.
	WorkStart, WorkEnd int
	WorkingDays        [7]bool // indexed by time.Weekday
	Detection          DetectionSettings
	// Rules are the workspace's enabled alert rules.
	Rules []AlertRule
}

// Configs looks up workspace configuration. Implementations cache: the
// detector asks once per event.
type Configs interface {
	// Config returns the configuration of a workspace. A workspace that
	// does not exist (the platform workspace of unknown accounts' failed
	// logins, say) gets the defaults and no rules.
	Config(ctx context.Context, workspaceID string) (WorkspaceConfig, error)
}

// Sink stores raised alerts.
type Sink interface {
	// Raise stores the alerts not stored before (by id), each linked to
	// its events and with a delivery per channel and one to the alert
	// topic, all in one transaction, and returns the ones it stored. A
	// replayed alert is not stored again and not returned.
	Raise(ctx context.Context, alerts []Alert) ([]Alert, error)
}

// TimeZone is the workspace's time zone, UTC when it has none.
func (w WorkspaceConfig) TimeZone() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// HasWorkingDays reports whether the workspace works on any day; one that
// does not has no working hours to be outside of.
func (w WorkspaceConfig) HasWorkingDays() bool {
	for _, ok := range w.WorkingDays {
		if ok {
			return true
		}
	}
	return false
}

// Working reports whether t, in the workspace's time zone, falls within
// Working hours [WorkStart, WorkEnd) of a working day. Overnight hours
// (WorkEnd before WorkStart) run into the next day and belong to the day
// they start on; equal start and end mean the whole day.
func (w WorkspaceConfig) Working(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	day := t.Weekday()
	switch {
	case w.WorkStart == w.WorkEnd:
		return w.WorkingDays[day]
	case w.WorkStart < w.WorkEnd:
		return w.WorkingDays[day] && m >= w.WorkStart && m < w.WorkEnd
	case m >= w.WorkStart:
		return w.WorkingDays[day]
	case m < w.WorkEnd:
		return w.WorkingDays[(day+6)%7]
	}
	return false
}

// WorkingHours says the working days and hours: "Mon–Fri 09:00–17:00".
func (w WorkspaceConfig) WorkingHours() string {
	hours := "all day"
	if w.WorkStart != w.WorkEnd {
		hours = clock(w.WorkStart) + "–" + clock(w.WorkEnd)
	}
	return workingDays(w.WorkingDays) + " " + hours
}

func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// workingDays says the days from Monday: runs of three or more as
// "Mon–Fri", others one by one.
func workingDays(days [7]bool) string {
	var parts []string
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	short := func(d time.Weekday) string { return d.String()[:3] }
	for i := 0; i < len(order); {
		if !days[order[i]] {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && days[order[j+1]] {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, short(order[i])+"–"+short(order[j]))
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, short(order[k]))
			}
		}
		i = j + 1
	}
	switch len(parts) {
	case 0:
		return "no days"
	case 1:
		if parts[0] == "Mon–Sun" {
			return "every day"
		}
	}
	return strings.Join(parts, ", ")
}
