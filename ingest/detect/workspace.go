package detect

import (
	"context"
	"time"

	activity "github.com/fluxera/activity"
)

// WorkspaceConfig is what the detector needs to know about a workspace:
// when it works, how its detectors are tuned, and its alert rules.
type WorkspaceConfig struct {
	// Location is the workspace's time zone.
	Location *time.Location
	// WorkStart and WorkEnd are the working hours in minutes after
	// midnight; WorkingDays says which weekdays are worked.
	WorkStart, WorkEnd int
	WorkingDays        [7]bool // indexed by time.Weekday
	Detection          activity.DetectionSettings
	// Rules are the workspace's enabled alert rules.
	Rules []activity.AlertRule
}

// Configs looks up workspace configuration. Implementations cache: the
// detector asks once per event.
type Configs interface {
	// Config returns the configuration of a workspace. A workspace that
	// does not exist (the platform workspace of unknown accounts' failed
	// logins, say) gets the defaults and no rules.
	Config(ctx context.Context, workspaceID string) (WorkspaceConfig, error)
}

// Sink stores raised alerts.
type Sink interface {
	// Raise stores the alerts not stored before (by id), each linked to
	// its events and with a delivery per channel and one to the alert
	// topic, all in one transaction, and returns the ones it stored. A
	// replayed alert is not stored again and not returned.
	Raise(ctx context.Context, alerts []activity.Alert) ([]activity.Alert, error)
}
