package dashboards

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

// workspacePath is Settings › Workspace.
const workspacePath = "/settings/workspace"

// detectionPath is the detection settings of Settings › Activity Alerts.
const detectionPath = alertsPath + "/detection"

// weekdayOptions are the working days the workspace form offers.
var weekdayOptions = []option{{"mon", "Monday"}, {"tue", "Tuesday"}, {"wed", "Wednesday"}, {"thu", "Thursday"}, {"fri", "Friday"}, {"sat", "Saturday"}, {"sun", "Sunday"}}

// timeZones are offered as suggestions; any IANA zone is taken.
var timeZones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
	"Europe/Istanbul", "Africa/Lagos", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore",
	"Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
	"America/Mexico_City",
}

// workspaceView is Settings › Workspace.
type workspaceView struct {
	view
	Settings          domain.Settings
	Note              string
	Error, ErrorField string
	Days              []option
	Zones             []string
	// Typed holds numbers as they were typed, when the form is refused.
	Typed map[string]string
	// Limits are the platform's limits of the retention settings.
	Limits domain.RetentionLimits
}

// Number is the field's number as typed, or n.
func (v *workspaceView) Number(field string, n int) string {
	if s, ok := v.Typed[field]; ok {
		return s
	}
	return strconv.Itoa(n)
}

// WorksOn reports whether the form's working days hold day.
func (v *workspaceView) WorksOn(day string) bool {
	for _, d := range v.Settings.WorkingDays {
		if d == day {
			return true
		}
	}
	return false
}

// mayManageSettings returns EFORBIDDEN, in words a person reads, unless the
// caller's role changes the workspace's settings.
func mayManageSettings(p activity.Principal) error {
	if !domain.Can(p.Role, domain.ManageSettings) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may not change the workspace's settings: only its owners and admins may", p.Role)
	}
	return nil
}

// workspaceSettings shows the workspace's settings in a form.
func (c *Console) workspaceSettings(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageSettings(p); err != nil {
		return err
	}
	s, err := c.svc.Settings.GetSettings(ctx.UserContext(), p)
	if err != nil {
		return err
	}
	v := c.workspaceView(ctx, s)
	if ctx.Query("saved") != "" {
		v.Notice = "The settings were saved. Times are now shown in " + s.TimeZone + "."
	}
	return c.render(ctx, "workspace", v)
}

func (c *Console) workspaceView(ctx *fiber.Ctx, s domain.Settings) *workspaceView {
	v := &workspaceView{view: c.baseView(ctx, "Workspace settings"), Settings: s, Days: weekdayOptions, Zones: timeZones, Limits: c.cfg.Retention}
	v.Section = "workspace"
	return v
}

// saveWorkspaceSettings changes the settings the form sends; the settings
// service records system.settings_changed. A refused form is shown again
// as typed, with why, and the API's status.
func (c *Console) saveWorkspaceSettings(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageSettings(p); err != nil {
		return err
	}
	current, err := c.svc.Settings.GetSettings(ctx.UserContext(), p)
	if err != nil {
		return err
	}
	in, typed, raw, err := readSettingsForm(ctx, current)
	if err == nil {
		_, err = c.svc.Settings.UpdateSettings(ctx.UserContext(), p, in)
	}
	if err != nil {
		if activity.ErrorCode(err) != activity.EINVALID {
			return err
		}
		v := c.workspaceView(ctx, typed)
		v.Note, v.Error, v.ErrorField, v.Typed = in.Note, activity.ErrorMessage(err), activity.ErrorField(err), raw
		return c.render(ctx.Status(fiber.StatusBadRequest), "workspace", v)
	}
	return ctx.Redirect(workspacePath+"?saved=1", fiber.StatusSeeOther)
}

// readSettingsForm reads the form into an update of every setting it
// shows, and the settings as typed, to show again if they are refused. A
// number that does not read is EINVALID on its field; raw holds the
// numbers as typed.
func readSettingsForm(ctx *fiber.Ctx, current domain.Settings) (in domain.SettingsUpdate, typed domain.Settings, raw map[string]string, err error) {
	typed = current
	typed.Name = ctx.FormValue("name")
	typed.TimeZone = ctx.FormValue("time_zone")
	typed.WorkingHoursStart = ctx.FormValue("working_hours_start")
	typed.WorkingHoursEnd = ctx.FormValue("working_hours_end")
	typed.MonthlyBackup = ctx.FormValue("monthly_backup") == "on"
	raw = map[string]string{}
	days := []string{}
	for _, d := range ctx.Request().PostArgs().PeekMulti("working_days") {
		days = append(days, string(d))
	}
	typed.WorkingDays = days
	in = domain.SettingsUpdate{
		Name: &typed.Name, TimeZone: &typed.TimeZone, WorkingHoursStart: &typed.WorkingHoursStart,
		WorkingHoursEnd: &typed.WorkingHoursEnd, WorkingDays: days, MonthlyBackup: &typed.MonthlyBackup,
		Note: ctx.FormValue("note"),
	}
	for _, n := range []struct {
		field string
		to    *int
		in    **int
	}{{"active_log_days", &typed.ActiveLogDays, &in.ActiveLogDays}, {"log_retention_days", &typed.LogRetentionDays, &in.LogRetentionDays}, {"deleted_user_log_days", &typed.DeletedUserLogDays, &in.DeletedUserLogDays}} {
		s := strings.TrimSpace(ctx.FormValue(n.field))
		raw[n.field] = s
		i, err := strconv.Atoi(s)
		if err != nil {
			return in, typed, raw, activity.Errorf(activity.EINVALID, n.field, "%s must be a whole number of days", n.field)
		}
		*n.to = i
		*n.in = n.to
	}
	return in, typed, raw, nil
}

// detectionView is the built-in detectors' settings.
type detectionView struct {
	view
	Detectors         []detectorRow
	Channels          string
	Error, ErrorField string
}

// detectorRow is one built-in detector in the form.
type detectorRow struct {
	Name, About string
	alert.DetectorSettings
	// HasThreshold and HasWindow say whether the detector takes them.
	HasThreshold, HasWindow bool
}

// detectorAbout says what each built-in detector watches.
var detectorAbout = map[string]string{
	alert.DetectFailedLogins:         "Failed logins for one account or from one address within the window.",
	alert.DetectUnusualTime:          "Actions outside working hours, or at hours a user is not seen at once they have this many active days.",
	alert.DetectBulkExports:          "Exports or reports by one person within the window.",
	alert.DetectPermissionChanges:    "Role changes, activations, invitations and API tokens by one person within the window.",
	alert.DetectUnusualLocation:      "A sign-in or action from a country or network not seen for that user before.",
	alert.DetectSimultaneousSessions: "Sessions of one user active within the window of each other.",
}

// detection shows the built-in detectors' settings in a form.
func (c *Console) detection(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	d, err := c.svc.Detection.GetDetection(ctx.UserContext(), p)
	if err != nil {
		return err
	}
	return c.render(ctx, "detection", c.detectionView(ctx, d.DetectionSettings))
}

func (c *Console) detectionView(ctx *fiber.Ctx, d alert.DetectionSettings) *detectionView {
	v := &detectionView{view: c.baseView(ctx, "Detection settings"), Channels: alert.DescribeChannels(d.Channels)}
	v.Section = "alerts"
	for _, name := range alert.Detectors {
		def := alert.DefaultDetectorSettings[name]
		v.Detectors = append(v.Detectors, detectorRow{Name: name, About: detectorAbout[name], DetectorSettings: d.Detector(name),
			HasThreshold: def.Threshold != 0, HasWindow: def.WindowMinutes != 0})
	}
	return v
}

// saveDetection changes the detectors as the form says; the detection
// service records system.detection_changed.
func (c *Console) saveDetection(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	current, err := c.svc.Detection.GetDetection(ctx.UserContext(), p)
	if err != nil {
		return err
	}
	typed := alert.DetectionSettings{Detectors: map[string]alert.DetectorSettings{}, Channels: current.Channels}
	in := alert.DetectionUpdate{Detectors: map[string]alert.DetectorUpdate{}, Note: ctx.FormValue("note")}
	var bad error
	for _, name := range alert.Detectors {
		s := current.Detector(name)
		s.Enabled = ctx.FormValue(name+".enabled") == "on"
		s.Severity = ctx.FormValue(name + ".severity")
		u := alert.DetectorUpdate{Enabled: &s.Enabled, Severity: &s.Severity}
		def := alert.DefaultDetectorSettings[name]
		for _, n := range []struct {
			field string
			takes bool
			to    *int
			in    **int
		}{{"threshold", def.Threshold != 0, &s.Threshold, &u.Threshold}, {"window_minutes", def.WindowMinutes != 0, &s.WindowMinutes, &u.WindowMinutes}} {
			if !n.takes {
				continue
			}
			i, err := strconv.Atoi(strings.TrimSpace(ctx.FormValue(name + "." + n.field)))
			if err != nil && bad == nil {
				bad = activity.Errorf(activity.EINVALID, "detectors."+name+"."+n.field, "%s of %s must be a whole number", n.field, name)
			}
			*n.to = i
			*n.in = n.to
		}
		typed.Detectors[name] = s
		in.Detectors[name] = u
	}
	if bad == nil {
		_, bad = c.svc.Detection.UpdateDetection(ctx.UserContext(), p, in)
	}
	if bad != nil {
		if activity.ErrorCode(bad) != activity.EINVALID {
			return bad
		}
		v := c.detectionView(ctx, typed)
		v.Error, v.ErrorField = activity.ErrorMessage(bad), activity.ErrorField(bad)
		return c.render(ctx.Status(fiber.StatusBadRequest), "detection", v)
	}
	return ctx.Redirect(alertsPath+"?saved=1", fiber.StatusSeeOther)
}
