package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

type definitionRow struct {
	bun.BaseModel `bun:"table:report_definitions,alias:rd"`
	ID            string                 `bun:"id,pk,type:uuid"`
	WorkspaceID   string                 `bun:"workspace_id,type:uuid"`
	Name          string                 `bun:"name"`
	Enabled       bool                   `bun:"enabled"`
	Metrics       []string               `bun:"metrics,array"`
	Filters       searchapi.CustomFilter `bun:"filters,type:jsonb"`
	Period        string                 `bun:"period"`
	Formats       []string               `bun:"formats,array"`
	Schedule      report.Schedule        `bun:"schedule,type:jsonb"`
	Recipients    []alert.Channel        `bun:"recipients,type:jsonb"`
	NextRunAt     time.Time              `bun:"next_run_at"`
	LastRunAt     *time.Time             `bun:"last_run_at"`
	LeaseID       string                 `bun:"lease_id,type:uuid,nullzero"`
	LeasedUntil   *time.Time             `bun:"leased_until"`
	Failures      int                    `bun:"failures"`
	CreatedAt     time.Time              `bun:"created_at"`
	UpdatedAt     time.Time              `bun:"updated_at"`
}

func newDefinitionRow(d report.Definition) definitionRow {
	return definitionRow{
		ID: d.ID, WorkspaceID: d.WorkspaceID, Name: d.Name, Enabled: d.Enabled, Metrics: d.Metrics, Filters: d.Filters,
		Period: d.Period, Formats: d.Formats, Schedule: d.Schedule, Recipients: d.Recipients,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// definition returns the row as a definition that shares no list with the
// row, in the workspace ws.
func (r definitionRow) definition(ws workspaceRow) report.Definition {
	d := report.Definition{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Enabled: r.Enabled, Metrics: slices.Clone(r.Metrics),
		Filters: r.Filters, Period: r.Period, Formats: slices.Clone(r.Formats), Schedule: r.Schedule,
		Recipients: make([]alert.Channel, len(r.Recipients)), LastRunAt: utc(r.LastRunAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Workspace: ws.Name, TimeZone: ws.TimeZone,
	}
	d.Filters.Users, d.Filters.ActivityTypes = nonNil(d.Filters.Users), nonNil(d.Filters.ActivityTypes)
	for i, c := range r.Recipients {
		c.To, c.Roles = slices.Clone(c.To), slices.Clone(c.Roles)
		d.Recipients[i] = c
	}
	if r.Enabled {
		next := r.NextRunAt.UTC()
		d.NextRunAt = &next
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func (r definitionRow) resource() activity.Resource {
	return activity.Resource{Type: "report_definition", ID: r.ID, Name: r.Name}
}

// ReportDefinitionStore keeps a workspace's custom report definitions,
// records their events, keeps the reports their runs make, and leases due
// schedules to one scheduler at a time. It implements
// report.DefinitionStore and report.Schedules.
type ReportDefinitionStore struct{ db *DB }

// NewReportDefinitionStore returns the definition store of db.
func NewReportDefinitionStore(db *DB) *ReportDefinitionStore {
	return &ReportDefinitionStore{db: db}
}

// CreateDefinition keeps d with a new id, due next after now in the
// workspace's time zone, and records report_definition.created with every
// field.
func (s *ReportDefinitionStore) CreateDefinition(ctx context.Context, p activity.Principal, d report.Definition, note string) (report.Definition, error) {
	if err := domain.Require(p, domain.ScheduleReports); err != nil {
		return report.Definition{}, err
	}
	if err := d.Validate(); err != nil {
		return report.Definition{}, err
	}
	var out report.Definition
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		d.ID, d.WorkspaceID, d.CreatedAt, d.UpdatedAt = activity.NewEventID(), ws.ID, now, now
		row := newDefinitionRow(d)
		row.NextRunAt = d.Schedule.Next(now, searchapi.Zone(ws.TimeZone))
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert report definition: %w", err)
		}
		e := newEvent(ctx, ws, p, report.ActionDefinitionCreated, now, row.resource())
		e.Changes, e.Note = domain.Changes(report.DefinitionAudit{}, report.AuditDefinition(d)), note
		out = row.definition(ws)
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return report.Definition{}, err
	}
	return out, nil
}

// ListDefinitions returns the workspace's definitions, oldest first.
func (s *ReportDefinitionStore) ListDefinitions(ctx context.Context, p activity.Principal) ([]report.Definition, error) {
	if err := domain.Require(p, domain.ScheduleReports); err != nil {
		return nil, err
	}
	ws, err := s.db.workspace(ctx, s.db, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var rows []definitionRow
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", ws.ID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select report definitions: %w", err)
	}
	out := make([]report.Definition, len(rows))
	for i, r := range rows {
		out[i] = r.definition(ws)
	}
	return out, nil
}

// FindDefinition returns one definition of the workspace with the
// workspace's name and time zone.
func (s *ReportDefinitionStore) FindDefinition(ctx context.Context, p activity.Principal, id string) (report.Definition, error) {
	if err := domain.Require(p, domain.ScheduleReports); err != nil {
		return report.Definition{}, err
	}
	ws, err := s.db.workspace(ctx, s.db, p.WorkspaceID)
	if err != nil {
		return report.Definition{}, err
	}
	row, err := loadDefinition(ctx, s.db, ws.ID, id, false)
	if err != nil {
		return report.Definition{}, err
	}
	return row.definition(ws), nil
}

// UpdateDefinition applies u and records report_definition.updated with
// each field that changed. A change of the schedule, or enabling the
// definition, makes it due next after now; an update that changes nothing
// writes nothing and records no event.
func (s *ReportDefinitionStore) UpdateDefinition(ctx context.Context, p activity.Principal, id string, u report.DefinitionUpdate) (report.Definition, error) {
	if err := domain.Require(p, domain.ScheduleReports); err != nil {
		return report.Definition{}, err
	}
	var out report.Definition
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, p.WorkspaceID)
		if err != nil {
			return err
		}
		row, err := loadDefinition(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		before := row.definition(ws)
		after := u.Apply(before)
		if err := after.Validate(); err != nil {
			return err
		}
		changes := domain.Changes(report.AuditDefinition(before), report.AuditDefinition(after))
		if len(changes) == 0 {
			out = before
			return nil
		}
		next := row.NextRunAt
		if after.Schedule != before.Schedule || (after.Enabled && !before.Enabled) {
			next = after.Schedule.Next(now, searchapi.Zone(ws.TimeZone))
		}
		after.UpdatedAt = now
		updated := newDefinitionRow(after)
		updated.NextRunAt = next
		_, err = tx.NewUpdate().Model(&updated).
			Column("name", "enabled", "metrics", "filters", "period", "formats", "schedule", "recipients", "next_run_at", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update report definition: %w", err)
		}
		updated.LastRunAt = row.LastRunAt
		e := newEvent(ctx, ws, p, report.ActionDefinitionUpdated, now, updated.resource())
		e.Changes, e.Note = changes, u.Note
		out = updated.definition(ws)
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return report.Definition{}, err
	}
	return out, nil
}

// DeleteDefinition removes a definition and records
// report_definition.deleted with every field as it was; its reports keep
// its id.
func (s *ReportDefinitionStore) DeleteDefinition(ctx context.Context, p activity.Principal, id, note string) error {
	if err := domain.Require(p, domain.ScheduleReports); err != nil {
		return err
	}
	return s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.callerWorkspace(ctx, tx, p)
		if err != nil {
			return err
		}
		row, err := loadDefinition(ctx, tx, ws.ID, id, true)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete report definition: %w", err)
		}
		e := newEvent(ctx, ws, p, report.ActionDefinitionDeleted, now, row.resource())
		e.Changes, e.Note = domain.Changes(report.AuditDefinition(row.definition(ws)), report.DefinitionAudit{}), note
		return s.db.recordEvents(ctx, tx, e)
	})
}

// loadDefinition reads a definition of the workspace, locked until the
// transaction ends when forUpdate is set. Any other id is ENOTFOUND.
func loadDefinition(ctx context.Context, db bun.IDB, workspaceID, id string, forUpdate bool) (definitionRow, error) {
	var row definitionRow
	notFound := activity.Errorf(activity.ENOTFOUND, "", "report definition not found")
	if !validID(id) {
		return row, notFound
	}
	q := db.NewSelect().Model(&row).Where("id = ? AND workspace_id = ?", id, workspaceID)
	if forUpdate {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return row, notFound
	}
	if err != nil {
		return row, fmt.Errorf("select report definition: %w", err)
	}
	return row, nil
}

// errLeaseLost refuses to keep the report of a scheduled run whose lease
// another scheduler took over, or whose definition is gone.
var errLeaseLost = activity.Errorf(activity.ECONFLICT, "", "the schedule's run is no longer this scheduler's: its lease was taken over or the definition deleted")

// KeepRun keeps the report of run with its files and a pending delivery
// per recipient of the definition as it is now, and records
// system.report_generated, in one transaction. A scheduled run is kept
// only while it holds its lease, at most once per due time, and moves the
// schedule on to its first due time after the report's generation; its
// event is the system's.
func (s *ReportDefinitionStore) KeepRun(ctx context.Context, run report.Run, r report.Report) (report.Report, error) {
	if err := domain.Require(run.By, domain.ExportData); err != nil {
		return report.Report{}, err
	}
	var out report.Report
	err := s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws, err := s.db.workspace(ctx, tx, run.Definition.WorkspaceID)
		if err != nil {
			return err
		}
		def, err := loadDefinition(ctx, tx, ws.ID, run.Definition.ID, true)
		if run.Scheduled() && (activity.ErrorCode(err) == activity.ENOTFOUND || (err == nil && def.LeaseID != run.LeaseID)) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		r.WorkspaceID, r.Workspace = ws.ID, ws.Name
		row := newReportRow(r)
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if isUniqueViolation(err, "reports_definition_due_idx") {
				return errLeaseLost
			}
			return fmt.Errorf("insert report: %w", err)
		}
		e := reportGenerated(ctx, ws, run.By, now, r)
		if run.Scheduled() {
			e.Actor = activity.Actor{Type: activity.ActorSystem, Name: report.SystemName}
			e.Context.Method = activity.MethodSystem
			detail(&e, "scheduled_for", run.Due.UTC().Format(time.RFC3339))
		}
		detail(&e, "definition_id", def.ID)
		if len(r.Files) > 0 {
			files := make([]string, len(r.Files))
			for i, f := range r.Files {
				files[i] = f.Name
			}
			detail(&e, "files", strings.Join(files, ","))
		}
		if err := s.db.recordEvents(ctx, tx, e); err != nil {
			return err
		}
		if err := insertReportDeliveries(ctx, tx, r, def.Recipients, now); err != nil {
			return err
		}
		if run.Scheduled() {
			due := run.Due.UTC()
			def.LastRunAt, def.LeaseID, def.LeasedUntil, def.Failures = &due, "", nil, 0
			def.NextRunAt = def.Schedule.Next(r.GeneratedAt, searchapi.Zone(ws.TimeZone))
			if _, err := tx.NewUpdate().Model(&def).Column("last_run_at", "lease_id", "leased_until", "next_run_at", "failures").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("move the schedule on: %w", err)
			}
		}
		out = row.report()
		return nil
	})
	if err != nil {
		return report.Report{}, err
	}
	return out, nil
}

// ClaimDue leases up to n enabled definitions due at now to the caller for
// lease, the most overdue first, with FOR UPDATE SKIP LOCKED so that two
// schedulers never claim one at once; one whose lease has not run out is
// another scheduler's and is skipped.
func (s *ReportDefinitionStore) ClaimDue(ctx context.Context, n int, now time.Time, lease time.Duration) ([]report.Claim, error) {
	if n < 1 {
		return nil, nil
	}
	now = now.UTC()
	leaseID := activity.NewEventID()
	var rows []definitionRow
	err := s.db.NewRaw(`
		WITH due AS (
			SELECT id FROM report_definitions
			WHERE enabled AND next_run_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
			ORDER BY next_run_at, id
			LIMIT ?
			FOR UPDATE SKIP LOCKED
		)
		UPDATE report_definitions AS rd SET lease_id = ?, leased_until = ?
		FROM due WHERE rd.id = due.id
		RETURNING rd.*`,
		now, now, n, leaseID, now.Add(lease)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("claim due report definitions: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].NextRunAt.Equal(rows[j].NextRunAt) {
			return rows[i].NextRunAt.Before(rows[j].NextRunAt)
		}
		return rows[i].ID < rows[j].ID
	})
	workspaces := map[string]workspaceRow{}
	out := make([]report.Claim, 0, len(rows))
	for _, r := range rows {
		ws, ok := workspaces[r.WorkspaceID]
		if !ok {
			if ws, err = s.db.workspace(ctx, s.db, r.WorkspaceID); err != nil {
				return nil, err
			}
			workspaces[r.WorkspaceID] = ws
		}
		d := r.definition(ws)
		next := r.NextRunAt.UTC()
		d.NextRunAt = &next
		out = append(out, report.Claim{Definition: d, LeaseID: leaseID, Failures: r.Failures})
	}
	return out, nil
}

// Retry lets go of a claim whose run failed: the definition is due again
// at at, whoever claims it then, with its next due time unchanged and one
// more failure in a row counted. A lease taken over meanwhile is left
// alone.
func (s *ReportDefinitionStore) Retry(ctx context.Context, c report.Claim, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*definitionRow)(nil)).Set("leased_until = ?", at.UTC()).Set("failures = failures + 1").
		Where("id = ? AND lease_id = ?", c.Definition.ID, c.LeaseID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release report definition %s: %w", c.Definition.ID, err)
	}
	return nil
}

var (
	_ report.DefinitionStore = (*ReportDefinitionStore)(nil)
	_ report.Schedules       = (*ReportDefinitionStore)(nil)
)
