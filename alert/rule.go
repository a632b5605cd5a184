package alert

import (
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/google/uuid"
)

// AlertRule is an alert a workspace set up itself: which activity to watch,
// whose, how much of it within how long, and who is told how.
type AlertRule struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	// ActivityTypes are categories or actions, with * wildcards; an event
	// matches when any of them does (see MatchActivityType).
	ActivityTypes []string `json:"activity_types"`
	// UserIDs are the users whose actions are watched; empty watches all.
	UserIDs []string `json:"user_ids"`
	// Outcome narrows the rule to successes or failures; empty takes both.
	Outcome string `json:"outcome,omitempty"`
	// Threshold is how many matching events within WindowMinutes raise the
	// alert; 1 (the default) raises one for every match.
	Threshold     int `json:"threshold"`
	WindowMinutes int `json:"window_minutes,omitempty"`
	// GroupBy is what the threshold counts per: actor (the default), ip or
	// workspace.
	GroupBy  string    `json:"group_by"`
	Severity string    `json:"severity"`
	Channels []Channel `json:"channels"`
	// Conditions narrow the rule to events whose fields compare as they
	// say ("asset.value gt 2000 EUR"); an event matches when all hold.
	Conditions []Condition `json:"conditions"`
	// Preset names the ready-made rule this one was created from.
	Preset    string    `json:"preset,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of an alert rule.
const (
	MaxRuleActivityTypes = 50
	MaxRuleUsers         = 500
	MaxRuleThreshold     = 10000
	MaxRuleWindowMinutes = 7 * 24 * 60
)

// Group-by values of an alert rule.
const (
	GroupByActor     = "actor"
	GroupByIP        = "ip"
	GroupByWorkspace = "workspace"
)

// Validate fills in defaults and checks the rule, naming the first bad
// field. It returns activity.EINVALID.
func (r *AlertRule) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	r.Description = strings.TrimSpace(r.Description)
	if r.Name == "" {
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	if err := activity.ValidateLine("name", r.Name, 200); err != nil {
		return err
	}
	if err := activity.ValidateText("description", r.Description, 2000); err != nil {
		return err
	}
	switch {
	case len(r.ActivityTypes) == 0:
		return activity.Errorf(activity.EINVALID, "activity_types", "name at least one category or action to watch")
	case len(r.ActivityTypes) > MaxRuleActivityTypes:
		return activity.Errorf(activity.EINVALID, "activity_types", "at most %d activity types", MaxRuleActivityTypes)
	case len(r.UserIDs) > MaxRuleUsers:
		return activity.Errorf(activity.EINVALID, "user_ids", "at most %d users", MaxRuleUsers)
	}
	for i, t := range r.ActivityTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		if !validActivityType(t) {
			return activity.Errorf(activity.EINVALID, "activity_types", "activity_types[%d] %q is neither a category (asset, license, user, auth, system) nor an action such as license.deleted or license.*", i, r.ActivityTypes[i])
		}
		r.ActivityTypes[i] = t
	}
	for i, id := range r.UserIDs {
		if uuid.Validate(id) != nil {
			return activity.Errorf(activity.EINVALID, "user_ids", "user_ids[%d] %q is not a user id", i, id)
		}
	}
	if r.UserIDs == nil {
		r.UserIDs = []string{}
	}
	switch r.Outcome {
	case "", activity.OutcomeSuccess, activity.OutcomeFailure:
	default:
		return activity.Errorf(activity.EINVALID, "outcome", "outcome must be success, failure or empty")
	}
	if len(r.Conditions) > MaxRuleConditions {
		return activity.Errorf(activity.EINVALID, "conditions", "at most %d conditions", MaxRuleConditions)
	}
	for i := range r.Conditions {
		if err := r.Conditions[i].Validate(indexed("conditions", i)); err != nil {
			return err
		}
	}
	if r.Conditions == nil {
		r.Conditions = []Condition{}
	}
	if r.Threshold == 0 {
		r.Threshold = 1
	}
	switch {
	case r.Threshold < 1 || r.Threshold > MaxRuleThreshold:
		return activity.Errorf(activity.EINVALID, "threshold", "threshold must be between 1 and %d", MaxRuleThreshold)
	case r.Threshold > 1 && r.WindowMinutes == 0:
		return activity.Errorf(activity.EINVALID, "window_minutes", "a threshold above 1 needs a window in minutes")
	case r.WindowMinutes < 0 || r.WindowMinutes > MaxRuleWindowMinutes:
		return activity.Errorf(activity.EINVALID, "window_minutes", "window_minutes must be between 1 and %d", MaxRuleWindowMinutes)
	}
	if r.GroupBy == "" {
		r.GroupBy = GroupByActor
	}
	if r.GroupBy != GroupByActor && r.GroupBy != GroupByIP && r.GroupBy != GroupByWorkspace {
		return activity.Errorf(activity.EINVALID, "group_by", "group_by must be actor, ip or workspace")
	}
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if !ValidSeverity(r.Severity) {
		return activity.Errorf(activity.EINVALID, "severity", "severity must be low, medium, high or critical")
	}
	if len(r.Channels) == 0 {
		return activity.Errorf(activity.EINVALID, "channels", "name at least one channel to notify")
	}
	if len(r.Channels) > MaxChannels {
		return activity.Errorf(activity.EINVALID, "channels", "at most %d channels", MaxChannels)
	}
	for i := range r.Channels {
		if err := r.Channels[i].Validate(indexed("channels", i)); err != nil {
			return err
		}
	}
	return nil
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// validActivityType accepts a category, or an action pattern of lowercase
// words and * joined by one dot, or a lone *.
func validActivityType(t string) bool {
	switch t {
	case activity.CategoryAsset, activity.CategoryLicense, activity.CategoryUser, activity.CategoryAuth, activity.CategorySystem, "*":
		return true
	}
	dot := strings.IndexByte(t, '.')
	if dot <= 0 || dot == len(t)-1 || strings.Count(t, ".") != 1 || len(t) > 100 {
		return false
	}
	for _, c := range t {
		if c != '.' && c != '*' && c != '_' && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// Matches reports whether e is an event the rule watches.
func (r *AlertRule) Matches(e activity.Event) bool {
	if !r.Enabled || (r.Outcome != "" && e.Outcome != r.Outcome) {
		return false
	}
	if len(r.UserIDs) > 0 {
		found := false
		for _, id := range r.UserIDs {
			if id == e.Actor.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, c := range r.Conditions {
		if !c.Holds(e) {
			return false
		}
	}
	for _, t := range r.ActivityTypes {
		if MatchActivityType(t, e.Action) {
			return true
		}
	}
	return false
}

// AlertPreset is a ready-made alert rule from the guide's examples.
type AlertPreset struct {
	Name  string `json:"name"`
	Group string `json:"group"` // security, operational or compliance
	Rule  AlertRule
}

// AlertPresets are the guide's alert examples, ready to create. They carry
// no channels: whoever creates one names where it goes, or it goes to the
// workspace's owners and admins by email.
var AlertPresets = []AlertPreset{
	{Name: "failed_logins", Group: "security", Rule: AlertRule{Name: "Failed login attempts", Description: "Three or more failed logins for one account within ten minutes.", ActivityTypes: []string{"auth.login_failed"}, Threshold: 3, WindowMinutes: 10, GroupBy: GroupByActor, Severity: "high"}},
	{Name: "role_changes", Group: "security", Rule: AlertRule{Name: "User role changes", Description: "Someone's role was changed.", ActivityTypes: []string{"user.role_changed"}, Severity: "high"}},
	{Name: "deactivations", Group: "security", Rule: AlertRule{Name: "User deactivations", Description: "A member was deactivated.", ActivityTypes: []string{"user.deactivated"}, Severity: "medium"}},
	{Name: "settings_changes", Group: "security", Rule: AlertRule{Name: "Settings changes", Description: "The workspace's settings were changed.", ActivityTypes: []string{"system.settings_changed"}, Severity: "medium"}},
	{Name: "asset_assignments", Group: "operational", Rule: AlertRule{Name: "Asset assignments", Description: "An asset was assigned; narrow it to the users who hand out high-value equipment.", ActivityTypes: []string{"asset.assigned"}, Severity: "low"}},
	{Name: "high_value_asset_assignments", Group: "operational", Rule: AlertRule{Name: "High-value asset assignments", Description: "An asset worth more than 2,000 EUR was assigned; change the amount and currency to your own.", ActivityTypes: []string{"asset.assigned"}, Conditions: []Condition{{Field: "asset.value", Operator: OpGreater, Value: "2000", Currency: "EUR"}}, Severity: "medium"}},
	{Name: "license_deletions", Group: "operational", Rule: AlertRule{Name: "License deletions", Description: "A license was deleted.", ActivityTypes: []string{"license.deleted"}, Severity: "medium"}},
	{Name: "bulk_operations", Group: "operational", Rule: AlertRule{Name: "Bulk operations", Description: "Fifty or more changes to assets or licenses by one person within five minutes.", ActivityTypes: []string{"asset.*", "license.*"}, Threshold: 50, WindowMinutes: 5, GroupBy: GroupByActor, Severity: "medium"}},
	{Name: "data_exports", Group: "operational", Rule: AlertRule{Name: "Data exports", Description: "Data was exported or a report generated.", ActivityTypes: ExportActions, Severity: "medium"}},
	{Name: "license_key_views", Group: "compliance", Rule: AlertRule{Name: "License key views", Description: "Someone viewed a license key.", ActivityTypes: []string{"license.key_viewed"}, Severity: "low"}},
	{Name: "access_changes", Group: "compliance", Rule: AlertRule{Name: "User access changes", Description: "A member joined, was activated or deactivated.", ActivityTypes: []string{"user.created", "user.activated", "user.deactivated", "invitation.accepted"}, Severity: "low"}},
	{Name: "permission_modifications", Group: "compliance", Rule: AlertRule{Name: "Permission modifications", Description: "A role changed or an API token was created or revoked.", ActivityTypes: []string{"user.role_changed", "user.api_token_created", "user.api_token_revoked"}, Severity: "medium"}},
}

// FindAlertPreset returns the preset of that name.
func FindAlertPreset(name string) (AlertPreset, bool) {
	for _, p := range AlertPresets {
		if p.Name == name {
			p.Rule.ActivityTypes = append([]string(nil), p.Rule.ActivityTypes...)
			p.Rule.Conditions = append([]Condition(nil), p.Rule.Conditions...)
			return p, true
		}
	}
	return AlertPreset{}, false
}
