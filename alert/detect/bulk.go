package detect

import (
	"fmt"
	"slices"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// planBulkExports counts a user's successful exports and reports
// (alert.ExportActions).
func (d *Detector) planBulkExports(p *plan, s alert.DetectorSettings, e *activity.Event) {
	if !slices.Contains(alert.ExportActions, e.Action) || e.Outcome != activity.OutcomeSuccess || !isUser(e.Actor) {
		return
	}
	subject, subjectKey, _ := actorSubject(e.Actor)
	window := minutes(s.WindowMinutes)
	d.count(p, e, threshold{
		key:       d.key(e.WorkspaceID, alert.DetectBulkExports, subjectKey),
		window:    window,
		threshold: s.Threshold,
		claim:     d.claimKey(e.WorkspaceID, alert.DetectBulkExports, subjectKey),
		cooldown:  d.cooldown(alert.DetectBulkExports),
		alert: func(r WindowResult) alert.Alert {
			summary := fmt.Sprintf("%s by %s within %s", count(r.Count, "export or report", "exports and reports"), who(e.Actor), span(window))
			return newAlert(*e, alert.DetectBulkExports, subject, subjectKey, s.Severity, summary)
		},
	})
}

// planPermissionChanges counts the successful permission changes
// (alert.PermissionActions) one actor makes.
func (d *Detector) planPermissionChanges(p *plan, s alert.DetectorSettings, e *activity.Event) {
	if !slices.Contains(alert.PermissionActions, e.Action) || e.Outcome != activity.OutcomeSuccess {
		return
	}
	subject, subjectKey, ok := actorSubject(e.Actor)
	if !ok {
		return
	}
	window := minutes(s.WindowMinutes)
	d.count(p, e, threshold{
		key:       d.key(e.WorkspaceID, alert.DetectPermissionChanges, subjectKey),
		window:    window,
		threshold: s.Threshold,
		claim:     d.claimKey(e.WorkspaceID, alert.DetectPermissionChanges, subjectKey),
		cooldown:  d.cooldown(alert.DetectPermissionChanges),
		alert: func(r WindowResult) alert.Alert {
			summary := fmt.Sprintf("%s by %s within %s", count(r.Count, "permission change", "permission changes"), who(e.Actor), span(window))
			return newAlert(*e, alert.DetectPermissionChanges, subject, subjectKey, s.Severity, summary)
		},
	})
}
