package detect

import (
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planUnusualTime checks a user's successful action against the
// workspace's working hours and days, in its time zone, and, once the
// user has s.Threshold active days of history, against the hours they were
// active at before: an hour they were active within an hour of on fewer
// than two earlier days is unusual. Every such action is recorded as
// history.
func (d *Detector) planUnusualTime(p *plan, ws *alert.WorkspaceConfig, s alert.DetectorSettings, e *activity.Event) {
	if !isUser(e.Actor) || e.Outcome != activity.OutcomeSuccess {
		return
	}
	loc := ws.TimeZone()
	local := e.OccurredAt.In(loc)
	outside := ws.HasWorkingDays() && !ws.Working(local)
	y, m, day := local.Date()
	dayStart := time.Date(y, m, day, 0, 0, 0, 0, loc)
	actor := p.actor(e)
	subject, subjectKey := actor.subject, actor.subjectKey
	check := HourCheck{
		Key:       actor.key(d, e.WorkspaceID, alert.DetectUnusualTime),
		Day:       local.Format("20060102"),
		Hour:      local.Hour(),
		HourStart: time.Date(y, m, day, local.Hour(), 0, 0, 0, loc),
		Since:     dayStart.Add(-d.Config.History),
		DayStart:  dayStart,
		Keep:      d.Config.History + d.Config.ReplayHorizon,
	}
	p.hour(actor, check, func(r HourResult) []candidate {
		unusualHour := r.Days >= s.Threshold && r.DaysNearHour < 2
		if !outside && !unusualHour {
			return nil
		}
		at := fmt.Sprintf("%s acted at %s on %s", who(e.Actor), local.Format("15:04"), local.Weekday())
		var summary string
		var reasons []string
		if outside {
			summary = fmt.Sprintf("%s, outside working hours (%s, %s)", at, ws.WorkingHours(), loc)
			reasons = append(reasons, "outside_working_hours")
		} else {
			summary = fmt.Sprintf("%s (%s), an unusual hour for them: active around it on %d of %d earlier days", at, loc, r.DaysNearHour, r.Days)
		}
		if unusualHour {
			reasons = append(reasons, "unusual_hour")
		}
		a := newAlert(*e, alert.DetectUnusualTime, subject, subjectKey, s.Severity, summary)
		a.Details["local_time"] = local.Format(time.RFC3339)
		a.Details["time_zone"] = loc.String()
		a.Details["working_hours"] = ws.WorkingHours()
		a.Details["reasons"] = reasons
		a.Details["active_days"] = r.Days
		a.Details["days_active_near_hour"] = r.DaysNearHour
		return []candidate{{alert: a, claim: d.claimKey(e.WorkspaceID, alert.DetectUnusualTime, subjectKey), cooldown: d.cooldown(alert.DetectUnusualTime)}}
	})
}
