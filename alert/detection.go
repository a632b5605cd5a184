package alert

import (
	"sort"

	activity "github.com/fluxera/activity"
)

// DetectorSettings tune one built-in detector for a workspace. What
// Threshold and WindowMinutes mean depends on the detector:
//
//   - failed_logins: Threshold failed logins within WindowMinutes, counted
//     per account and per source address.
//   - unusual_time: an action outside the workspace's working hours or
//     days; once a user has Threshold active days of history, also an
//     action at an hour that user has not been active at before.
//   - bulk_exports: Threshold exports or reports by one person within
//     WindowMinutes.
//   - rapid_permission_changes: Threshold permission changes (roles,
//     activations, invitations, API tokens) by one person within
//     WindowMinutes.
//   - unusual_location: a sign-in or action from a country or network not
//     seen for that user before. It takes no threshold or window.
//   - simultaneous_sessions: Threshold sessions of one user active within
//     WindowMinutes of each other.
type DetectorSettings struct {
	Enabled       bool   `json:"enabled"`
	Threshold     int    `json:"threshold,omitempty"`
	WindowMinutes int    `json:"window_minutes,omitempty"`
	Severity      string `json:"severity"`
}

// DetectionSettings are a workspace's built-in detectors and the channels
// their alerts go to.
type DetectionSettings struct {
	Detectors map[string]DetectorSettings `json:"detectors"`
	Channels  []Channel                   `json:"channels"`
}

// DefaultDetectorSettings are what a workspace starts with.
var DefaultDetectorSettings = map[string]DetectorSettings{
	DetectFailedLogins:         {Enabled: true, Threshold: 3, WindowMinutes: 10, Severity: "high"},
	DetectUnusualTime:          {Enabled: true, Threshold: 14, Severity: "medium"},
	DetectBulkExports:          {Enabled: true, Threshold: 3, WindowMinutes: 60, Severity: "high"},
	DetectPermissionChanges:    {Enabled: true, Threshold: 5, WindowMinutes: 10, Severity: "high"},
	DetectUnusualLocation:      {Enabled: true, Severity: "medium"},
	DetectSimultaneousSessions: {Enabled: true, Threshold: 3, WindowMinutes: 30, Severity: "medium"},
}

// DefaultChannels send the red flags of a workspace that chose no channels
// to its owners and admins by email.
func DefaultChannels() []Channel {
	return []Channel{{Type: ChannelEmail, Roles: []string{activity.RoleOwner, activity.RoleAdmin}}}
}

// DefaultDetectionSettings returns a fresh copy of the defaults.
func DefaultDetectionSettings() DetectionSettings {
	d := DetectionSettings{Detectors: map[string]DetectorSettings{}, Channels: DefaultChannels()}
	for k, v := range DefaultDetectorSettings {
		d.Detectors[k] = v
	}
	return d
}

// Detector returns the settings of detector name, defaults filled in.
func (d DetectionSettings) Detector(name string) DetectorSettings {
	if s, ok := d.Detectors[name]; ok {
		return s
	}
	return DefaultDetectorSettings[name]
}

// Merge returns d with the detectors and channels of u applied: a detector
// named in u replaces d's, and u's channels replace d's when u has any
// (an empty list, not a missing one, clears them).
func (d DetectionSettings) Merge(u DetectionUpdate) DetectionSettings {
	out := DetectionSettings{Detectors: map[string]DetectorSettings{}, Channels: d.Channels}
	for k, v := range d.Detectors {
		out.Detectors[k] = v
	}
	for k, v := range u.Detectors {
		cur := out.Detector(k)
		if v.Enabled != nil {
			cur.Enabled = *v.Enabled
		}
		if v.Threshold != nil {
			cur.Threshold = *v.Threshold
		}
		if v.WindowMinutes != nil {
			cur.WindowMinutes = *v.WindowMinutes
		}
		if v.Severity != nil {
			cur.Severity = *v.Severity
		}
		out.Detectors[k] = cur
	}
	if u.Channels != nil {
		out.Channels = *u.Channels
	}
	return out
}

// DetectionUpdate changes detection settings; nil fields stay as they are.
type DetectionUpdate struct {
	Detectors map[string]DetectorUpdate `json:"detectors"`
	Channels  *[]Channel                `json:"channels"`
	Note      string                    `json:"note"`
}

// DetectorUpdate changes one detector; nil fields stay as they are.
type DetectorUpdate struct {
	Enabled       *bool   `json:"enabled"`
	Threshold     *int    `json:"threshold"`
	WindowMinutes *int    `json:"window_minutes"`
	Severity      *string `json:"severity"`
}

// Validate checks the settings, naming the first bad field
// ("detectors.failed_logins.threshold"). It returns activity.EINVALID.
func (d *DetectionSettings) Validate() error {
	names := make([]string, 0, len(d.Detectors))
	for k := range d.Detectors {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		s := d.Detectors[name]
		def, ok := DefaultDetectorSettings[name]
		field := "detectors." + name
		switch {
		case !ok:
			return activity.Errorf(activity.EINVALID, "detectors", "%q is not a detector; the detectors are failed_logins, unusual_time, bulk_exports, rapid_permission_changes, unusual_location and simultaneous_sessions", name)
		case !ValidSeverity(s.Severity):
			return activity.Errorf(activity.EINVALID, field+".severity", "severity must be low, medium, high or critical")
		case def.Threshold == 0 && s.Threshold != 0:
			return activity.Errorf(activity.EINVALID, field+".threshold", "%s takes no threshold", name)
		case def.Threshold != 0 && (s.Threshold < 1 || s.Threshold > 1000):
			return activity.Errorf(activity.EINVALID, field+".threshold", "threshold must be between 1 and 1000")
		case def.WindowMinutes == 0 && s.WindowMinutes != 0:
			return activity.Errorf(activity.EINVALID, field+".window_minutes", "%s takes no window", name)
		case def.WindowMinutes != 0 && (s.WindowMinutes < 1 || s.WindowMinutes > MaxRuleWindowMinutes):
			return activity.Errorf(activity.EINVALID, field+".window_minutes", "window_minutes must be between 1 and %d", MaxRuleWindowMinutes)
		}
	}
	if d.Channels == nil {
		d.Channels = []Channel{}
	}
	if len(d.Channels) > MaxChannels {
		return activity.Errorf(activity.EINVALID, "channels", "at most %d channels", MaxChannels)
	}
	for i := range d.Channels {
		if err := d.Channels[i].Validate(indexed("channels", i)); err != nil {
			return err
		}
	}
	return nil
}
