package detect

import (
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planSessions records the session a user's event was made in, or ends it
// on auth.logout, and raises an alert when s.Threshold or more of the
// user's sessions were seen within s.WindowMinutes.
func (d *Detector) planSessions(p *plan, s alert.DetectorSettings, e *activity.Event) {
	if !isUser(e.Actor) || e.Context.SessionID == "" {
		return
	}
	actor := p.actor(e)
	subject, subjectKey := actor.subject, actor.subjectKey
	window := minutes(s.WindowMinutes)
	end := e.Action == "auth.logout"
	p.session(SessionCheck{
		Key:       actor.key(d, e.WorkspaceID, alert.DetectSimultaneousSessions),
		SessionID: e.Context.SessionID,
		EventID:   e.ID,
		IP:        e.Context.IP,
		At:        e.OccurredAt,
		End:       end,
		Window:    window,
		Keep:      2 * window,
		Last:      MaxAlertEvents,
		ListFrom:  int64(s.Threshold),
	}, func(r SessionResult) []candidate {
		if end || r.Count < int64(s.Threshold) {
			return nil
		}
		summary := fmt.Sprintf("%s had %s active within %s", who(e.Actor), count(r.Count, "session", "sessions"), span(window))
		a := newAlert(*e, alert.DetectSimultaneousSessions, subject, subjectKey, s.Severity, summary)
		a.Count = r.Count
		a.Window = window.String()
		var ids []string
		var sessions []map[string]any
		for _, x := range r.Sessions {
			if x.EventID != "" {
				ids = append(ids, x.EventID)
			}
			sessions = append(sessions, map[string]any{"session_id": x.ID, "ip": x.IP, "last_seen": x.LastSeen.Format(time.RFC3339Nano), "event_id": x.EventID})
		}
		a.EventIDs = windowEvents(ids, e.ID)
		a.Details["sessions"] = sessions
		return []candidate{{alert: a, claim: d.claimKey(e.WorkspaceID, alert.DetectSimultaneousSessions, subjectKey), cooldown: d.cooldown(alert.DetectSimultaneousSessions)}}
	})
}
