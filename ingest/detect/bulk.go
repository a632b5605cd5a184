package detect

import (
	"fmt"
	"slices"

	activity "github.com/fluxera/activity"
)

// planBulkExports counts a user's successful exports and reports
// (activity.ExportActions).
func (d *Detector) planBulkExports(p *plan, s activity.DetectorSettings, e activity.Event) {
	if !slices.Contains(activity.ExportActions, e.Action) || e.Outcome != activity.OutcomeSuccess || !isUser(e.Actor) {
		return
	}
	subject, subjectKey, _ := actorSubject(e.Actor)
	window := minutes(s.WindowMinutes)
	d.count(p, e, threshold{
		key:       d.key(e.WorkspaceID, activity.DetectBulkExports, subjectKey),
		window:    window,
		threshold: s.Threshold,
		claim:     d.claimKey(e.WorkspaceID, activity.DetectBulkExports, subjectKey),
		cooldown:  d.cooldown(activity.DetectBulkExports),
		alert: func(r WindowResult) activity.Alert {
			summary := fmt.Sprintf("%s by %s within %s", count(r.Count, "export or report", "exports and reports"), who(e.Actor), span(window))
			return newAlert(e, activity.DetectBulkExports, subject, subjectKey, s.Severity, summary)
		},
	})
}

// planPermissionChanges counts the successful permission changes
// (activity.PermissionActions) one actor makes.
func (d *Detector) planPermissionChanges(p *plan, s activity.DetectorSettings, e activity.Event) {
	if !slices.Contains(activity.PermissionActions, e.Action) || e.Outcome != activity.OutcomeSuccess {
		return
	}
	subject, subjectKey, ok := actorSubject(e.Actor)
	if !ok {
		return
	}
	window := minutes(s.WindowMinutes)
	d.count(p, e, threshold{
		key:       d.key(e.WorkspaceID, activity.DetectPermissionChanges, subjectKey),
		window:    window,
		threshold: s.Threshold,
		claim:     d.claimKey(e.WorkspaceID, activity.DetectPermissionChanges, subjectKey),
		cooldown:  d.cooldown(activity.DetectPermissionChanges),
		alert: func(r WindowResult) activity.Alert {
			summary := fmt.Sprintf("%s by %s within %s", count(r.Count, "permission change", "permission changes"), who(e.Actor), span(window))
			return newAlert(e, activity.DetectPermissionChanges, subject, subjectKey, s.Severity, summary)
		},
	})
}
