package domain

import (
	"context"
	"regexp"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Weekdays are days of the week as mon, tue, ... sun.
type Weekdays []string

// String renders the days as "mon,tue,wed".
func (w Weekdays) String() string { return strings.Join(w, ",") }

var weekdayOrder = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// Settings are a workspace's preferences. The working hours and days tell
// the detector what counts as unusual access time; the retention periods
// how long activity is kept.
type Settings struct {
	Name              string   `json:"name"`
	TimeZone          string   `json:"time_zone"`
	WorkingHoursStart string   `json:"working_hours_start"`
	WorkingHoursEnd   string   `json:"working_hours_end"`
	WorkingDays       Weekdays `json:"working_days"`
	// LogRetentionDays is how long the log is kept at all, in the
	// searchable log and then in the archive: 7 years by default.
	LogRetentionDays int `json:"log_retention_days"`
	// ActiveLogDays is how long entries stay in the searchable log before
	// the retention job moves them to the archive; 0, the default, keeps
	// them searchable for as long as the log is kept.
	ActiveLogDays      int `json:"active_log_days"`
	DeletedUserLogDays int `json:"deleted_user_log_days"`
	// MonthlyBackup turns on the automatic backup of each past month's
	// log, as gzipped NDJSON, into the archive store.
	MonthlyBackup bool `json:"monthly_backup"`
}

// SettingsUpdate changes settings; nil fields stay as they are.
type SettingsUpdate struct {
	Name               *string  `json:"name"`
	TimeZone           *string  `json:"time_zone"`
	WorkingHoursStart  *string  `json:"working_hours_start"`
	WorkingHoursEnd    *string  `json:"working_hours_end"`
	WorkingDays        []string `json:"working_days"`
	LogRetentionDays   *int     `json:"log_retention_days"`
	ActiveLogDays      *int     `json:"active_log_days"`
	DeletedUserLogDays *int     `json:"deleted_user_log_days"`
	MonthlyBackup      *bool    `json:"monthly_backup"`
	Note               string   `json:"note"`
}

var clockPattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// Apply returns s with the update applied and validated within the
// DefaultRetentionLimits. It returns EINVALID naming the first bad field.
func (u SettingsUpdate) Apply(s Settings) (Settings, error) {
	return u.ApplyWithin(s, DefaultRetentionLimits())
}

// ApplyWithin returns s with the update applied and validated, its
// retention settings within limits. It returns EINVALID naming the first
// bad field and, for a retention setting, the bound it crosses.
func (u SettingsUpdate) ApplyWithin(s Settings, limits RetentionLimits) (Settings, error) {
	if u.Name != nil {
		s.Name = strings.TrimSpace(*u.Name)
	}
	if u.TimeZone != nil {
		s.TimeZone = strings.TrimSpace(*u.TimeZone)
	}
	if u.WorkingHoursStart != nil {
		s.WorkingHoursStart = *u.WorkingHoursStart
	}
	if u.WorkingHoursEnd != nil {
		s.WorkingHoursEnd = *u.WorkingHoursEnd
	}
	if u.LogRetentionDays != nil {
		s.LogRetentionDays = *u.LogRetentionDays
	}
	if u.ActiveLogDays != nil {
		s.ActiveLogDays = *u.ActiveLogDays
	}
	if u.DeletedUserLogDays != nil {
		s.DeletedUserLogDays = *u.DeletedUserLogDays
	}
	if u.MonthlyBackup != nil {
		s.MonthlyBackup = *u.MonthlyBackup
	}
	if u.WorkingDays != nil {
		seen := map[string]bool{}
		days := Weekdays{}
		for _, d := range u.WorkingDays {
			d = strings.ToLower(strings.TrimSpace(d))
			if _, ok := weekdayOrder[d]; !ok {
				return s, activity.Errorf(activity.EINVALID, "working_days", "%q is not a day; use mon, tue, wed, thu, fri, sat, sun", d)
			}
			if !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
		for i := 1; i < len(days); i++ { // keep the week's order
			for j := i; j > 0 && weekdayOrder[days[j]] < weekdayOrder[days[j-1]]; j-- {
				days[j], days[j-1] = days[j-1], days[j]
			}
		}
		s.WorkingDays = days
	}
	if s.Name == "" {
		return s, activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	if err := activity.ValidateLine("name", s.Name, 200); err != nil {
		return s, err
	}
	if err := activity.ValidateNote(u.Note); err != nil {
		return s, err
	}
	switch {
	case !clockPattern.MatchString(s.WorkingHoursStart):
		return s, activity.Errorf(activity.EINVALID, "working_hours_start", "working_hours_start must be a time such as 09:00")
	case !clockPattern.MatchString(s.WorkingHoursEnd):
		return s, activity.Errorf(activity.EINVALID, "working_hours_end", "working_hours_end must be a time such as 18:00")
	case s.WorkingHoursEnd <= s.WorkingHoursStart:
		return s, activity.Errorf(activity.EINVALID, "working_hours_end", "working_hours_end must be later than working_hours_start")
	}
	if err := limits.check(s, u); err != nil {
		return s, err
	}
	if s.TimeZone == "" || s.TimeZone == "Local" {
		return s, activity.Errorf(activity.EINVALID, "time_zone", "time_zone must be an IANA zone such as Europe/Berlin")
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil {
		return s, activity.Errorf(activity.EINVALID, "time_zone", "unknown time zone %q", s.TimeZone)
	}
	return s, nil
}

// Actions recorded by features outside the domain API itself.
const (
	ActionReportGenerated       = "system.report_generated"
	ActionDataExported          = "system.data_exported"
	ActionIntegrationConfigured = "system.integration_configured"
)

// SystemAction is an action of a reporting, export or integration feature,
// recorded through SystemService.Record.
type SystemAction struct {
	// Action is one of ActionReportGenerated, ActionDataExported and
	// ActionIntegrationConfigured.
	Action string
	// Resource is what was produced or configured: a report, an export, an
	// integration.
	Resource activity.Resource
	Changes  []activity.Change
	Details  map[string]any
	Note     string
}

// SettingsService reads and changes workspace settings.
type SettingsService interface {
	GetSettings(ctx context.Context, p activity.Principal) (Settings, error)
	// UpdateSettings records system.settings_changed with the before and
	// after of every changed setting.
	UpdateSettings(ctx context.Context, p activity.Principal, in SettingsUpdate) (Settings, error)
	// Record records a reporting, export or integration action by p. It
	// returns EINVALID for another action and EFORBIDDEN when p may not
	// perform it.
	Record(ctx context.Context, p activity.Principal, a SystemAction) error
}
