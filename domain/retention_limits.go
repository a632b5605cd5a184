package domain

import (
	"fmt"

	activity "github.com/fluxera/activity"
)

// MaxRetentionDays is the longest any retention setting may be: a
// hundred years.
const MaxRetentionDays = 36500

// RetentionBounds are the platform's default and limits, in days, for one
// of a workspace's retention settings.
type RetentionBounds struct {
	// Default is what a new workspace gets.
	Default int
	// Min and Max bound what an owner or admin may set.
	Min, Max int
}

// RetentionLimits are the platform's defaults and limits for a
// workspace's three retention settings, set by the operator: new
// workspaces get the defaults, and settings outside the limits are
// refused.
type RetentionLimits struct {
	// ActiveLog is active_log_days: how long entries stay searchable. Its
	// default may be 0, searchable for as long as the log is kept, and 0
	// may always be set.
	ActiveLog RetentionBounds
	// Log is log_retention_days: how long the log is kept at all, in the
	// searchable log and then in the archive.
	Log RetentionBounds
	// DeletedUserLog is deleted_user_log_days: how long a deleted
	// member's entries stay attributed to them.
	DeletedUserLog RetentionBounds
}

// DefaultRetentionLimits are the limits when the operator sets none:
// entries searchable indefinitely (or 30 days to 100 years), the log kept
// 7 years (30 days to 100 years), a deleted member's entries kept 90 days
// (1 day to 100 years).
func DefaultRetentionLimits() RetentionLimits {
	return RetentionLimits{
		ActiveLog:      RetentionBounds{Default: 0, Min: 30, Max: MaxRetentionDays},
		Log:            RetentionBounds{Default: 2555, Min: 30, Max: MaxRetentionDays},
		DeletedUserLog: RetentionBounds{Default: 90, Min: 1, Max: MaxRetentionDays},
	}
}

// Validate fills in DefaultRetentionLimits when l is all zero, and checks
// that each setting's limits hold its default (min ≤ default ≤ max, within
// 1 to MaxRetentionDays days) and that the searchable log's default is
// not longer than the log's. Its errors name the FLUXERA_RETENTION_*
// settings the limits are read from.
func (l *RetentionLimits) Validate() error {
	if *l == (RetentionLimits{}) {
		*l = DefaultRetentionLimits()
	}
	for _, s := range []struct {
		name      string
		b         RetentionBounds
		zeroIsSet bool
	}{{"ACTIVE_LOG_DAYS", l.ActiveLog, true}, {"LOG_DAYS", l.Log, false}, {"DELETED_USER_LOG_DAYS", l.DeletedUserLog, false}} {
		minName, maxName, defName := "FLUXERA_RETENTION_MIN_"+s.name, "FLUXERA_RETENTION_MAX_"+s.name, "FLUXERA_RETENTION_DEFAULT_"+s.name
		switch b := s.b; {
		case b.Min < 1:
			return fmt.Errorf("%s (%d) must be at least 1 day", minName, b.Min)
		case b.Max > MaxRetentionDays:
			return fmt.Errorf("%s (%d) must be at most %d days", maxName, b.Max, MaxRetentionDays)
		case b.Min > b.Max:
			return fmt.Errorf("%s (%d) must not be more than %s (%d)", minName, b.Min, maxName, b.Max)
		case b.Default == 0 && s.zeroIsSet:
		case b.Default < b.Min:
			return fmt.Errorf("%s (%d) must not be less than %s (%d)", defName, b.Default, minName, b.Min)
		case b.Default > b.Max:
			return fmt.Errorf("%s (%d) must not be more than %s (%d)", defName, b.Default, maxName, b.Max)
		}
	}
	if l.ActiveLog.Default > l.Log.Default {
		return fmt.Errorf("FLUXERA_RETENTION_DEFAULT_ACTIVE_LOG_DAYS (%d) must not be more than FLUXERA_RETENTION_DEFAULT_LOG_DAYS (%d)", l.ActiveLog.Default, l.Log.Default)
	}
	return nil
}

// check returns EINVALID naming field when days is outside b, saying
// which bound it crosses; zeroIsSet lets 0 through.
func (b RetentionBounds) check(field string, days int, zeroIsSet bool) error {
	switch {
	case days == 0 && zeroIsSet:
		return nil
	case days < b.Min:
		if zeroIsSet {
			return activity.Errorf(activity.EINVALID, field, "%s must be 0 (searchable for as long as the log is kept) or at least %d days, the platform's minimum", field, b.Min)
		}
		return activity.Errorf(activity.EINVALID, field, "%s must be at least %d days, the platform's minimum", field, b.Min)
	case days > b.Max:
		return activity.Errorf(activity.EINVALID, field, "%s must be at most %d days, the platform's maximum", field, b.Max)
	}
	return nil
}

// check returns EINVALID naming the first retention setting u sets that
// is outside l's limits, or an active_log_days of s longer than its
// log_retention_days. Settings u leaves alone are not held to limits the
// operator changed since they were set.
func (l RetentionLimits) check(s Settings, u SettingsUpdate) error {
	if u.LogRetentionDays != nil {
		if err := l.Log.check("log_retention_days", s.LogRetentionDays, false); err != nil {
			return err
		}
	}
	if u.ActiveLogDays != nil {
		if err := l.ActiveLog.check("active_log_days", s.ActiveLogDays, true); err != nil {
			return err
		}
	}
	if s.ActiveLogDays > s.LogRetentionDays {
		return activity.Errorf(activity.EINVALID, "active_log_days", "active_log_days must not be longer than log_retention_days")
	}
	if u.DeletedUserLogDays != nil {
		return l.DeletedUserLog.check("deleted_user_log_days", s.DeletedUserLogDays, false)
	}
	return nil
}
