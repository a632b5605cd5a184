package detect

import (
	"fmt"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planFailedLogins counts a failed login against its account (the user,
// or the email address when it matches no user) and its source address.
func (d *Detector) planFailedLogins(p *plan, s alert.DetectorSettings, e *activity.Event) {
	if e.Action != "auth.login_failed" {
		return
	}
	window := minutes(s.WindowMinutes)
	watch := func(subject alert.AlertSubject, subjectKey, per, phrase string) {
		d.count(p, e, threshold{
			key:       d.key(e.WorkspaceID, alert.DetectFailedLogins, subjectKey),
			window:    window,
			threshold: s.Threshold,
			claim:     d.claimKey(e.WorkspaceID, alert.DetectFailedLogins, subjectKey),
			cooldown:  d.cooldown(alert.DetectFailedLogins),
			alert: func(r WindowResult) alert.Alert {
				summary := fmt.Sprintf("%s %s within %s", count(r.Count, "failed login", "failed logins"), phrase, span(window))
				a := newAlert(*e, alert.DetectFailedLogins, subject, subjectKey, s.Severity, summary)
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
