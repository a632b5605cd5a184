package activity

import "strings"

// phrases word each known action. {actor} is who acted, {resource} the
// resource's type and name ("asset MacBook Pro"), {name} its name alone,
// {assignee} and {previous_assignee} the related users of an assignment.
var phrases = map[string]string{
	"auth.login":                       "{actor} logged in",
	"auth.logout":                      "{actor} logged out",
	"auth.login_failed":                "{actor} failed to log in",
	"auth.access_denied":               "{actor} was refused access to {resource}",
	"auth.signup":                      "{actor} signed up, creating {resource}",
	"auth.signup_failed":               "{actor} failed to sign up for {resource}",
	"asset.assigned":                   "{actor} assigned {resource} to {assignee}",
	"asset.unassigned":                 "{actor} took {resource} back from {previous_assignee}",
	"asset.maintenance_scheduled":      "{actor} scheduled maintenance of {resource}",
	"asset.maintenance_completed":      "{actor} completed maintenance of {resource}",
	"asset.image_uploaded":             "{actor} uploaded an image of {resource}",
	"license.assigned":                 "{actor} gave {assignee} a seat of {resource}",
	"license.unassigned":               "{actor} took the seat of {resource} back from {assignee}",
	"license.key_viewed":               "{actor} viewed the key of {resource}",
	"user.invited":                     "{actor} invited {name}",
	"invitation.accepted":              "{actor} accepted the invitation to join",
	"invitation.declined":              "{actor} declined the invitation to join",
	"invitation.revoked":               "{actor} withdrew the invitation of {name}",
	"user.activated":                   "{actor} activated {resource}",
	"user.deactivated":                 "{actor} deactivated {resource}",
	"user.anonymized":                  "{actor} anonymized {resource}",
	"user.deleted":                     "{actor} deleted {resource}",
	"user.profile_updated":             "{actor} updated the profile of {resource}",
	"user.password_changed":            "{actor} changed the password of {resource}",
	"user.api_token_created":           "{actor} created API token {name}",
	"user.api_token_revoked":           "{actor} revoked API token {name}",
	"user.api_token_rotated":           "{actor} rotated API token {name}",
	"system.settings_changed":          "{actor} changed the settings of {resource}",
	"system.data_exported":             "{actor} exported {name}",
	"system.log_viewed":                "{actor} searched the activity log",
	"system.retention_applied":         "{actor} applied the activity retention of {resource}",
	"system.legal_hold_created":        "{actor} placed the legal hold {name}",
	"system.legal_hold_released":       "{actor} released the legal hold {name}",
	"system.activity_deleted":          "{actor} deleted activity past its retention in {resource}",
	"system.archive_restore_requested": "{actor} asked to restore the archived period {name}",
	"system.archive_restored":          "{actor} restored the archived period {name} into the searchable log",
	"system.archive_restore_ended":     "{actor} ended the restore of the archived period {name}",
	"system.archive_restore_expired":   "{actor} removed the restored period {name} from the searchable log",
	"system.report_generated":          "{actor} generated the report {name}",
	"system.integration_configured":    "{actor} configured the integration {name}",
	"system.detection_changed":         "{actor} changed the security detection settings of {resource}",
	"system.signing_secret_rotated":    "{actor} rotated the alert signing secret of {resource}",
	"alert_rule.created":               "{actor} created the alert rule {name}",
	"alert_rule.deleted":               "{actor} deleted the alert rule {name}",
	"alert.acknowledged":               "{actor} acknowledged the alert \"{name}\"",
	"alert.resolved":                   "{actor} resolved the alert \"{name}\"",
}

// changeVerbs are the actions worded by their one change when they have
// exactly one: "Jane changed status from available to lost on asset X".
var changeVerbs = map[string]bool{"updated": true, "status_changed": true, "role_changed": true, "expiration_updated": true, "renewed": true, "settings_changed": true, "profile_updated": true}

// Summary says the action in plain words, for example
// "Jane Roe assigned asset MacBook Pro A-1029 to John Doe" or
// "John Doe changed status from available to lost on asset MacBook Pro".
func (e *Event) Summary() string {
	who := e.Actor.Name
	if who == "" {
		who = e.Actor.Email
	}
	if who == "" {
		who = "Someone"
	}
	what := strings.TrimSpace(strings.ReplaceAll(e.Resource.Type, "_", " ") + " " + e.Resource.Name)
	_, verb, _ := strings.Cut(e.Action, ".")
	if len(e.Changes) == 1 && changeVerbs[verb] && !e.Changes[0].Redacted {
		c := e.Changes[0]
		field := strings.ReplaceAll(c.Field, "_", " ")
		return who + " changed " + field + " from " + quoteEmpty(c.Before) + " to " + quoteEmpty(c.After) + " on " + what
	}
	if p, ok := phrases[e.Action]; ok {
		return fillPhrase(p, func(placeholder string) (string, bool) {
			switch placeholder {
			case "{actor}":
				return who, true
			case "{resource}":
				return what, true
			case "{name}":
				return e.Resource.Name, true
			case "{assignee}":
				return e.related("assignee"), true
			case "{previous_assignee}":
				return e.related("previous_assignee"), true
			}
			return "", false
		})
	}
	return who + " " + strings.ReplaceAll(verb, "_", " ") + " " + what
}

// fillPhrase replaces each known {placeholder} of phrase, left to right,
// with its value; the values are not read again for placeholders. It is
// what a strings.Replacer of the same pairs does, without building one for
// every event.
func fillPhrase(phrase string, value func(placeholder string) (string, bool)) string {
	var b strings.Builder
	b.Grow(len(phrase) + 32)
	for {
		i := strings.IndexByte(phrase, '{')
		if i < 0 {
			b.WriteString(phrase)
			return b.String()
		}
		j := strings.IndexByte(phrase[i:], '}')
		if j < 0 {
			b.WriteString(phrase)
			return b.String()
		}
		if v, ok := value(phrase[i : i+j+1]); ok {
			b.WriteString(phrase[:i])
			b.WriteString(v)
			phrase = phrase[i+j+1:]
			continue
		}
		b.WriteString(phrase[:i+1])
		phrase = phrase[i+1:]
	}
}

// related names the related resource of the given role, or "someone".
func (e *Event) related(role string) string {
	for _, r := range e.Related {
		if r.Role == role && r.Name != "" {
			return r.Name
		}
	}
	return "someone"
}

func quoteEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
