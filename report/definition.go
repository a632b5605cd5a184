package report

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Actions recorded by custom report definitions.
const (
	ActionDefinitionCreated = "report_definition.created"
	ActionDefinitionUpdated = "report_definition.updated"
	ActionDefinitionDeleted = "report_definition.deleted"
)

// Definition is a custom report a workspace set up: the metrics it
// computes over which actions and which period, the formats it is
// rendered in, when it is generated and to whom it is sent.
type Definition struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	Name        string `json:"name"`
	// Enabled schedules are generated when due; a disabled one only when
	// asked to run now.
	Enabled bool                   `json:"enabled"`
	Metrics []string               `json:"metrics"`
	Filters searchapi.CustomFilter `json:"filters"`
	// Period is one of Periods, relative to the time of the run.
	Period   string   `json:"period"`
	Formats  []string `json:"formats"`
	Schedule Schedule `json:"schedule"`
	// Recipients are email channels (addresses and roles, the roles read
	// when the report is sent) and at most one webhook.
	Recipients []alert.Channel `json:"recipients"`
	// NextRunAt is when the schedule is next due; LastRunAt the due time
	// of its last scheduled run.
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
	LastRunAt *time.Time `json:"last_run_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`

	// Workspace and TimeZone are the workspace's name and time zone, read
	// with the definition for its runs.
	Workspace string `json:"-"`
	TimeZone  string `json:"-"`
}

// Limits of a definition.
const (
	MaxDefinitionRecipients = 10
)

// Validate puts the definition in its one form and checks it. It returns
// EINVALID naming the first bad field: name, metrics, filters.users,
// filters.activity_types, filters.outcome, filters.q, period, formats,
// schedule.*, or recipients[i].*. It does not look at the network; the
// webhook's address is checked by the service.
func (d *Definition) Validate() error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		return activity.Errorf(activity.EINVALID, "name", "name is required")
	}
	if err := activity.ValidateLine("name", d.Name, 200); err != nil {
		return err
	}
	metrics, err := searchapi.CheckMetrics("metrics", d.Metrics)
	if err != nil {
		return err
	}
	d.Metrics = metrics
	if err := d.Filters.Validate("filters."); err != nil {
		return err
	}
	d.Period = strings.ToLower(strings.TrimSpace(d.Period))
	if d.Period == "" {
		d.Period = defaultCustomPeriod
	}
	if !slices.Contains(Periods, d.Period) {
		return activity.Errorf(activity.EINVALID, "period", "period must be one of %s", strings.Join(Periods, ", "))
	}
	if d.Formats, err = checkFormats(d.Formats); err != nil {
		return err
	}
	if err := d.Schedule.Validate(); err != nil {
		return err
	}
	return checkRecipients(d.Recipients)
}

// checkFormats returns the formats in the order pdf, csv, json, each once;
// none means pdf. It returns EINVALID on field formats.
func checkFormats(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{FormatPDF}, nil
	}
	var out []string
	for i, f := range in {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != FormatPDF && f != FormatCSV && f != FormatJSON {
			return nil, activity.Errorf(activity.EINVALID, "formats", "formats[%d] %q is not pdf, csv or json", i, in[i])
		}
		if slices.Contains(out, f) {
			return nil, activity.Errorf(activity.EINVALID, "formats", "formats[%d] %q is named twice", i, f)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(formats, a) - slices.Index(formats, b) })
	return out, nil
}

// formats are the formats a report is rendered in, in the order files are
// made and attached.
var formats = []string{FormatPDF, FormatCSV, FormatJSON}

// checkRecipients checks each recipient as an alert channel is checked:
// email channels with addresses and roles, and at most one webhook. None is
// allowed: such a report is only archived.
func checkRecipients(rs []alert.Channel) error {
	if len(rs) > MaxDefinitionRecipients {
		return activity.Errorf(activity.EINVALID, "recipients", "at most %d recipients", MaxDefinitionRecipients)
	}
	webhooks := 0
	for i := range rs {
		field := "recipients[" + strconv.Itoa(i) + "]"
		switch strings.TrimSpace(rs[i].Type) {
		case alert.ChannelEmail, alert.ChannelWebhook:
		case alert.ChannelChat:
			return activity.Errorf(activity.EINVALID, field+".type", "a report is sent by email or webhook, not to a chat")
		}
		if err := rs[i].Validate(field); err != nil {
			return err
		}
		for _, role := range rs[i].Roles {
			// A scheduled report covers the whole workspace: only roles
			// that see the whole workspace's activity may receive it.
			if !domain.Can(role, domain.ViewWorkspaceLog) {
				return activity.Errorf(activity.EINVALID, field+".roles",
					"a scheduled report covers the whole workspace's activity, which the role %s may not see; name owners or admins, or addresses", role)
			}
		}
		if rs[i].Type == alert.ChannelWebhook {
			if webhooks++; webhooks > 1 {
				return activity.Errorf(activity.EINVALID, field+".url", "a report is sent to at most one webhook")
			}
		}
	}
	return nil
}

// DefinitionCreate is a new definition. Enabled defaults to true.
type DefinitionCreate struct {
	Name       string                 `json:"name"`
	Enabled    *bool                  `json:"enabled"`
	Metrics    []string               `json:"metrics"`
	Filters    searchapi.CustomFilter `json:"filters"`
	Period     string                 `json:"period"`
	Formats    []string               `json:"formats"`
	Schedule   Schedule               `json:"schedule"`
	Recipients []alert.Channel        `json:"recipients"`
	Note       string                 `json:"note"`
}

// Definition returns the definition the fields describe, validated.
func (c DefinitionCreate) Definition() (Definition, error) {
	if err := activity.ValidateNote(c.Note); err != nil {
		return Definition{}, err
	}
	d := Definition{
		Name: c.Name, Enabled: c.Enabled == nil || *c.Enabled, Metrics: c.Metrics, Filters: c.Filters,
		Period: c.Period, Formats: c.Formats, Schedule: c.Schedule, Recipients: copyChannels(c.Recipients),
	}
	if d.Recipients == nil {
		d.Recipients = []alert.Channel{}
	}
	return d, d.Validate()
}

// DefinitionUpdate changes a definition; nil fields stay as they are.
type DefinitionUpdate struct {
	Name       *string                 `json:"name"`
	Enabled    *bool                   `json:"enabled"`
	Metrics    *[]string               `json:"metrics"`
	Filters    *searchapi.CustomFilter `json:"filters"`
	Period     *string                 `json:"period"`
	Formats    *[]string               `json:"formats"`
	Schedule   *Schedule               `json:"schedule"`
	Recipients *[]alert.Channel        `json:"recipients"`
	Note       string                  `json:"note"`
}

// Apply returns d with the update applied, not yet validated; it shares no
// list with the update.
func (u DefinitionUpdate) Apply(d Definition) Definition {
	if u.Name != nil {
		d.Name = *u.Name
	}
	if u.Enabled != nil {
		d.Enabled = *u.Enabled
	}
	if u.Metrics != nil {
		d.Metrics = slices.Clone(*u.Metrics)
	}
	if u.Filters != nil {
		d.Filters = *u.Filters
		d.Filters.Users, d.Filters.ActivityTypes = slices.Clone(d.Filters.Users), slices.Clone(d.Filters.ActivityTypes)
	}
	if u.Period != nil {
		d.Period = *u.Period
	}
	if u.Formats != nil {
		d.Formats = slices.Clone(*u.Formats)
	}
	if u.Schedule != nil {
		d.Schedule = *u.Schedule
	}
	if u.Recipients != nil {
		d.Recipients = copyChannels(*u.Recipients)
		if d.Recipients == nil {
			d.Recipients = []alert.Channel{}
		}
	}
	return d
}

func copyChannels(cs []alert.Channel) []alert.Channel {
	if cs == nil {
		return nil
	}
	out := make([]alert.Channel, len(cs))
	for i, c := range cs {
		c.To, c.Roles = slices.Clone(c.To), slices.Clone(c.Roles)
		out[i] = c
	}
	return out
}

// DefinitionAudit is a definition as its events record it: lists joined
// for reading, a webhook URL as its host and a fingerprint.
type DefinitionAudit struct {
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	Metrics    string `json:"metrics"`
	Users      string `json:"filters.users"`
	Types      string `json:"filters.activity_types"`
	Outcome    string `json:"filters.outcome"`
	Query      string `json:"filters.q"`
	Period     string `json:"period"`
	Formats    string `json:"formats"`
	Schedule   string `json:"schedule"`
	Recipients string `json:"recipients"`
}

// AuditDefinition describes d for domain.Changes.
func AuditDefinition(d Definition) DefinitionAudit {
	return DefinitionAudit{
		Name: d.Name, Enabled: d.Enabled, Metrics: strings.Join(d.Metrics, ", "),
		Users: strings.Join(d.Filters.Users, ", "), Types: strings.Join(d.Filters.ActivityTypes, ", "),
		Outcome: d.Filters.Outcome, Query: d.Filters.Query, Period: d.Period, Formats: strings.Join(d.Formats, ", "),
		Schedule: d.Schedule.String(), Recipients: alert.DescribeChannels(d.Recipients),
	}
}

// DefinitionStore keeps a workspace's custom report definitions. Every
// method needs domain.ScheduleReports (EFORBIDDEN); an id of another
// workspace, or of none, is ENOTFOUND.
type DefinitionStore interface {
	// CreateDefinition keeps the validated d with a new id, due next
	// after now, and records report_definition.created with every field.
	CreateDefinition(ctx context.Context, p activity.Principal, d Definition, note string) (Definition, error)
	// ListDefinitions returns the workspace's definitions, oldest first.
	ListDefinitions(ctx context.Context, p activity.Principal) ([]Definition, error)
	// FindDefinition returns one definition with its workspace's name and
	// time zone.
	FindDefinition(ctx context.Context, p activity.Principal, id string) (Definition, error)
	// UpdateDefinition applies u, validates the result (EINVALID), moves
	// the next run when the schedule or enabled changed, and records
	// report_definition.updated with each field that changed; an update
	// that changes nothing writes nothing.
	UpdateDefinition(ctx context.Context, p activity.Principal, id string, u DefinitionUpdate) (Definition, error)
	// DeleteDefinition removes a definition and records
	// report_definition.deleted; its reports stay.
	DeleteDefinition(ctx context.Context, p activity.Principal, id, note string) error
	// KeepRun keeps the report of a run with its archived files and a
	// delivery per recipient, and records system.report_generated, in one
	// transaction. A scheduled run moves its schedule on to the next due
	// time after the report's generation, and is kept only while the run
	// still holds the schedule's lease: ECONFLICT otherwise.
	KeepRun(ctx context.Context, run Run, r Report) (Report, error)
}

// Run is one generation of a definition's report.
type Run struct {
	Definition Definition
	// By is who asked for the run; a scheduled run is the system's.
	By activity.Principal
	// Due is the due time a scheduled run is for, zero for a run asked for
	// now; LeaseID is the scheduler's lease on the definition.
	Due     time.Time
	LeaseID string
}

// Scheduled reports whether the run is a scheduled one.
func (r Run) Scheduled() bool { return !r.Due.IsZero() }
