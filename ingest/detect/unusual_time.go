package detect

import (
	"fmt"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// planUnusualTime checks a user's successful action against the
// workspace's working hours and days, in its time zone, and, once the
// user has s.Threshold active days of history, against the hours they were
// active at before: an hour they were active within an hour of on fewer
// than two earlier days is unusual. Every such action is recorded as
// history.
func (d *Detector) planUnusualTime(p *plan, ws WorkspaceConfig, s activity.DetectorSettings, e activity.Event) {
	if !isUser(e.Actor) || e.Outcome != activity.OutcomeSuccess {
		return
	}
	loc := ws.location()
	local := e.OccurredAt.In(loc)
	outside := ws.hasWorkingDays() && !ws.working(local)
	y, m, day := local.Date()
	dayStart := time.Date(y, m, day, 0, 0, 0, 0, loc)
	subject, subjectKey, _ := actorSubject(e.Actor)
	check := HourCheck{
		Key:       d.key(e.WorkspaceID, activity.DetectUnusualTime, subjectKey),
		Day:       local.Format("20060102"),
		Hour:      local.Hour(),
		HourStart: time.Date(y, m, day, local.Hour(), 0, 0, 0, loc),
		Since:     dayStart.Add(-d.Config.History),
		DayStart:  dayStart,
		Keep:      d.Config.History + d.Config.ReplayHorizon,
	}
	p.hour(check, func(r HourResult) []candidate {
		unusualHour := r.Days >= s.Threshold && r.DaysNearHour < 2
		if !outside && !unusualHour {
			return nil
		}
		at := fmt.Sprintf("%s acted at %s on %s", who(e.Actor), local.Format("15:04"), local.Weekday())
		var summary string
		var reasons []string
		if outside {
			summary = fmt.Sprintf("%s, outside working hours (%s, %s)", at, ws.workingHours(), loc)
			reasons = append(reasons, "outside_working_hours")
		} else {
			summary = fmt.Sprintf("%s (%s), an unusual hour for them: active around it on %d of %d earlier days", at, loc, r.DaysNearHour, r.Days)
		}
		if unusualHour {
			reasons = append(reasons, "unusual_hour")
		}
		a := newAlert(e, activity.DetectUnusualTime, subject, subjectKey, s.Severity, summary)
		a.Details["local_time"] = local.Format(time.RFC3339)
		a.Details["time_zone"] = loc.String()
		a.Details["working_hours"] = ws.workingHours()
		a.Details["reasons"] = reasons
		a.Details["active_days"] = r.Days
		a.Details["days_active_near_hour"] = r.DaysNearHour
		return []candidate{{alert: a, claim: d.claimKey(e.WorkspaceID, activity.DetectUnusualTime, subjectKey), cooldown: d.cooldown(activity.DetectUnusualTime)}}
	})
}

// location is the workspace's time zone, UTC when it has none.
func (w WorkspaceConfig) location() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// hasWorkingDays reports whether the workspace works on any day; one that
// does not has no working hours to be outside of.
func (w WorkspaceConfig) hasWorkingDays() bool {
	for _, ok := range w.WorkingDays {
		if ok {
			return true
		}
	}
	return false
}

// working reports whether t, in the workspace's time zone, falls within
// working hours [WorkStart, WorkEnd) of a working day. Overnight hours
// (WorkEnd before WorkStart) run into the next day and belong to the day
// they start on; equal start and end mean the whole day.
func (w WorkspaceConfig) working(t time.Time) bool {
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

// workingHours says the working days and hours: "Mon–Fri 09:00–17:00".
func (w WorkspaceConfig) workingHours() string {
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
