package detect

import (
	"fmt"

	activity "github.com/fluxera/activity"
)

// planFailedLogins counts a failed login against its account (the user,
// or the email address when it matches no user) and its source address.
func (d *Detector) planFailedLogins(p *plan, s activity.DetectorSettings, e activity.Event) {
	if e.Action != "auth.login_failed" {
		return
	}
	window := minutes(s.WindowMinutes)
	watch := func(subject activity.AlertSubject, subjectKey, per, phrase string) {
		d.count(p, e, threshold{
			key:       d.key(e.WorkspaceID, activity.DetectFailedLogins, subjectKey),
			window:    window,
			threshold: s.Threshold,
			claim:     d.claimKey(e.WorkspaceID, activity.DetectFailedLogins, subjectKey),
			cooldown:  d.cooldown(activity.DetectFailedLogins),
			alert: func(r WindowResult) activity.Alert {
				summary := fmt.Sprintf("%s %s within %s", count(r.Count, "failed login", "failed logins"), phrase, span(window))
				a := newAlert(e, activity.DetectFailedLogins, subject, subjectKey, s.Severity, summary)
				a.Details["counted_per"] = per
				if e.Actor.Email != "" {
					a.Details["email"] = e.Actor.Email
				}
				if reason, ok := e.Details["reason"]; ok {
					a.Details["reason"] = reason
				}
				return a
			},
		})
	}
	if subject, key, ok := actorSubject(e.Actor); ok {
		label := e.Actor.Email
		if label == "" {
			label = subject.Label
		}
		watch(subject, "account:"+key, "account", "for "+label)
	}
	if ip := e.Context.IP; ip != "" {
		subject, key := ipSubject(ip)
		watch(subject, key, "ip", "from "+ip)
	}
}
