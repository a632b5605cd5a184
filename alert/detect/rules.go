package detect

import (
	"fmt"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planRule checks an event against one of its workspace's alert rules. A
// rule with threshold 1 raises an alert for every matching event; one with
// a higher threshold counts matching events per actor, address or
// workspace (its GroupBy) within its window, and raises at most one alert
// per window for each.
func (d *Detector) planRule(p *plan, r *alert.AlertRule, e *activity.Event) {
	if !r.Matches(*e) {
		return
	}
	severity := r.Severity
	if !alert.ValidSeverity(severity) {
		severity = "medium"
	}
	subject, subjectKey, phrase, grouped := ruleGroup(r, e)
	if r.Threshold <= 1 {
		if !grouped {
			if subject, subjectKey, grouped = actorSubject(e.Actor); !grouped {
				subject, subjectKey = workspaceSubject(e.WorkspaceID)
			}
		}
		summary := fmt.Sprintf("%s: %s did %s", r.Name, who(e.Actor), e.Action)
		if e.Resource.Name != "" {
			summary += fmt.Sprintf(" on %q", e.Resource.Name)
		}
		p.now(candidate{alert: ruleAlert(r, newAlert(*e, r.ID, subject, subjectKey, severity, summary))})
		return
	}
	if !grouped {
		return // nothing to count it against: a rule per address and an event without one
	}
	window := minutes(r.WindowMinutes)
	d.count(p, e, threshold{
		key:       d.key(e.WorkspaceID, "rule", r.ID, subjectKey),
		window:    window,
		threshold: r.Threshold,
		claim:     d.claimKey(e.WorkspaceID, "rule:"+r.ID, subjectKey),
		cooldown:  window,
		alert: func(w WindowResult) alert.Alert {
			summary := fmt.Sprintf("%s: %s %s within %s", r.Name, count(w.Count, "matching event", "matching events"), phrase, span(window))
			return ruleAlert(r, newAlert(*e, r.ID, subject, subjectKey, severity, summary))
		},
	})
}

// ruleGroup returns what a rule counts e against. It reports false when e
// has nothing to be counted against: no address for a rule per address,
// no identifiable actor for a rule per actor.
func ruleGroup(r *alert.AlertRule, e *activity.Event) (alert.AlertSubject, string, string, bool) {
	switch r.GroupBy {
	case alert.GroupByIP:
		if e.Context.IP == "" {
			return alert.AlertSubject{}, "", "", false
		}
		subject, key := ipSubject(e.Context.IP)
		return subject, key, "from " + e.Context.IP, true
	case alert.GroupByWorkspace:
		subject, key := workspaceSubject(e.WorkspaceID)
		return subject, key, "in the workspace", true
	}
	subject, key, ok := actorSubject(e.Actor)
	return subject, key, "by " + who(e.Actor), ok
}

// ruleAlert marks a as raised by rule r.
func ruleAlert(r *alert.AlertRule, a alert.Alert) alert.Alert {
	a.Detector = ""
	a.RuleID = r.ID
	a.RuleName = r.Name
	a.Details["group_by"] = r.GroupBy
	return a
}
