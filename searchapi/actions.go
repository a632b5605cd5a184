package searchapi

import (
	"slices"
	"strings"
)

// Actions lists every action the platform records, by category. A report
// asked for an activity type outside it is refused, so that a typing
// mistake is not answered with an empty report.
var Actions = []string{
	"asset.created", "asset.updated", "asset.deleted", "asset.assigned", "asset.unassigned",
	"asset.status_changed", "asset.maintenance_scheduled", "asset.maintenance_completed", "asset.image_uploaded",
	"license.created", "license.updated", "license.deleted", "license.assigned", "license.unassigned",
	"license.renewed", "license.expiration_updated", "license.key_viewed",
	"user.created", "user.invited", "user.role_changed", "user.activated", "user.deactivated",
	"user.profile_updated", "user.password_changed", "user.api_token_created", "user.api_token_revoked",
	"user.api_token_rotated", "user.anonymized", "user.deleted",
	"invitation.accepted", "invitation.declined", "invitation.revoked",
	"auth.login", "auth.logout", "auth.login_failed", "auth.access_denied", "auth.signup", "auth.signup_failed",
	"system.settings_changed", "system.data_exported", "system.report_generated", "system.integration_configured",
	"system.detection_changed", "system.signing_secret_rotated", "system.log_viewed",
	"system.retention_applied", "system.legal_hold_created", "system.legal_hold_released", "system.activity_deleted",
	"system.archive_restore_requested", "system.archive_restored", "system.archive_restore_ended", "system.archive_restore_expired",
	"alert_rule.created", "alert_rule.updated", "alert_rule.deleted",
	"alert.acknowledged", "alert.resolved",
	"report_definition.created", "report_definition.updated", "report_definition.deleted",
}

// KnownAction reports whether action is one of Actions.
func KnownAction(action string) bool {
	return slices.Contains(Actions, action)
}

// actionsOf returns the known actions whose resource part is resource
// ("license" for license.*), in the order of Actions.
func actionsOf(resource string) []string {
	var out []string
	for _, a := range Actions {
		if strings.HasPrefix(a, resource+".") {
			out = append(out, a)
		}
	}
	return out
}
