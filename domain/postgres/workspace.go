package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type workspaceRow struct {
	bun.BaseModel      `bun:"table:workspaces"`
	ID                 string     `bun:"id,pk,type:uuid"`
	Name               string     `bun:"name"`
	TimeZone           string     `bun:"time_zone"`
	WorkingHoursStart  string     `bun:"working_hours_start"`
	WorkingHoursEnd    string     `bun:"working_hours_end"`
	WorkingDays        string     `bun:"working_days"`
	LogRetentionDays   int        `bun:"log_retention_days"`
	ActiveLogDays      int        `bun:"active_log_days"`
	DeletedUserLogDays int        `bun:"deleted_user_log_days"`
	MonthlyBackup      bool       `bun:"monthly_backup"`
	CreatedAt          time.Time  `bun:"created_at"`
	UpdatedAt          *time.Time `bun:"updated_at"`
}

func (r workspaceRow) settings() domain.Settings {
	days := domain.Weekdays{}
	if r.WorkingDays != "" {
		days = strings.Split(r.WorkingDays, ",")
	}
	return domain.Settings{Name: r.Name, TimeZone: r.TimeZone, WorkingHoursStart: r.WorkingHoursStart, WorkingHoursEnd: r.WorkingHoursEnd,
		WorkingDays: days, LogRetentionDays: r.LogRetentionDays, ActiveLogDays: r.ActiveLogDays, DeletedUserLogDays: r.DeletedUserLogDays, MonthlyBackup: r.MonthlyBackup}
}

func (r workspaceRow) workspace() domain.Workspace {
	return domain.Workspace{ID: r.ID, Name: r.Name, TimeZone: r.TimeZone, CreatedAt: r.CreatedAt}
}

// WorkspaceService creates workspaces and their owners.
type WorkspaceService struct {
	db     *DB
	hasher domain.PasswordHasher
}

// NewWorkspaceService returns the workspace service of db.
func NewWorkspaceService(db *DB, hasher domain.PasswordHasher) *WorkspaceService {
	return &WorkspaceService{db: db, hasher: hasher}
}

// CreateWorkspace creates a workspace and its owner, and records the
// owner's user.created event. It returns EINVALID for bad input and
// ECONFLICT when the email is taken.
func (s *WorkspaceService) CreateWorkspace(ctx context.Context, in domain.WorkspaceSetup) (domain.Workspace, domain.User, error) {
	if err := checkSetup(&in); err != nil {
		return domain.Workspace{}, domain.User{}, err
	}
	return s.create(ctx, in, nil)
}

// CreateWorkspaceInvitingOwner creates a workspace without members and
// invites its owner, who sets a password when accepting, through the
// invitation flow members are invited with. It records user.invited by
// the platform and returns the invitation with its one-time token. It
// returns EINVALID for bad input and ECONFLICT when the email has an
// account.
func (s *WorkspaceService) CreateWorkspaceInvitingOwner(ctx context.Context, in domain.WorkspaceSetup, ttl time.Duration) (domain.Workspace, domain.NewInvitation, error) {
	if err := checkWorkspace(&in); err != nil {
		return domain.Workspace{}, domain.NewInvitation{}, err
	}
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	token, hash, err := newToken("")
	if err != nil {
		return domain.Workspace{}, domain.NewInvitation{}, err
	}
	var ws workspaceRow
	var inv invitationRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		taken, err := tx.NewSelect().Model((*userRow)(nil)).Where("lower(email) = ?", in.OwnerEmail).Exists(ctx)
		if err != nil {
			return fmt.Errorf("look up email: %w", err)
		}
		if taken {
			return activity.Errorf(activity.ECONFLICT, "email", "a user with this email already exists")
		}
		ws = newWorkspaceRow(in, now, s.db.cfg.Retention)
		if _, err := tx.NewInsert().Model(&ws).Exec(ctx); err != nil {
			return fmt.Errorf("insert workspace: %w", err)
		}
		inv = invitationRow{ID: uuid.NewString(), WorkspaceID: ws.ID, Email: in.OwnerEmail, Name: in.OwnerName, Role: activity.RoleOwner,
			TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if _, err := tx.NewInsert().Model(&inv).Exec(ctx); err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		e := activity.NewEvent(ws.ID, "user.invited", now)
		e.Actor = activity.Actor{Type: activity.ActorSystem, Name: "Fluxera"}
		e.Resource = inv.resource()
		e.Changes = domain.Changes(invitationAudit{}, invitationAudit{Email: inv.Email, Name: inv.Name, Role: inv.Role})
		e.Context = domain.EventContext(ctx, "", ws.TimeZone)
		e.Note = "owner of the new workspace " + ws.Name
		detail(&e, "expires_at", inv.ExpiresAt.Format(time.RFC3339))
		return s.db.recordEvents(ctx, tx, e)
	})
	if err != nil {
		return domain.Workspace{}, domain.NewInvitation{}, err
	}
	return ws.workspace(), domain.NewInvitation{Invitation: inv.invitation(inv.CreatedAt), Token: token}, nil
}

// newWorkspaceRow is a new workspace of in with the default settings, its
// retention the platform's defaults.
func newWorkspaceRow(in domain.WorkspaceSetup, now time.Time, limits domain.RetentionLimits) workspaceRow {
	return workspaceRow{ID: uuid.NewString(), Name: in.Name, TimeZone: in.TimeZone, CreatedAt: now,
		WorkingHoursStart: "09:00", WorkingHoursEnd: "18:00", WorkingDays: "mon,tue,wed,thu,fri",
		ActiveLogDays: limits.ActiveLog.Default, LogRetentionDays: limits.Log.Default, DeletedUserLogDays: limits.DeletedUserLog.Default}
}

// maxPasswordLength is the longest password a new owner may have, the
// longest a login checks.
const maxPasswordLength = 256

// checkSetup trims and checks a new workspace and its owner, and fills in
// the default time zone. It returns EINVALID naming the field: name,
// email, password, owner_name or time_zone.
func checkSetup(in *domain.WorkspaceSetup) error {
	if err := checkWorkspace(in); err != nil {
		return err
	}
	switch {
	case len(in.OwnerPassword) < 8:
		return activity.Errorf(activity.EINVALID, "password", "password must have at least 8 characters")
	case len(in.OwnerPassword) > maxPasswordLength:
		return activity.Errorf(activity.EINVALID, "password", "password is longer than %d characters", maxPasswordLength)
	}
	return nil
}

// checkWorkspace checks what checkSetup does but the password, which an
// invited owner chooses later.
func checkWorkspace(in *domain.WorkspaceSetup) error {
	in.Name, in.OwnerName = strings.TrimSpace(in.Name), strings.TrimSpace(in.OwnerName)
	in.OwnerEmail = strings.ToLower(strings.TrimSpace(in.OwnerEmail))
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	switch {
	case in.Name == "":
		return activity.Errorf(activity.EINVALID, "name", "workspace name is required")
	case !validEmail(in.OwnerEmail):
		return activity.Errorf(activity.EINVALID, "email", "owner email is not a valid address")
	}
	if err := activity.ValidateLine("name", in.Name, 200); err != nil {
		return err
	}
	if err := activity.ValidateLine("owner_name", in.OwnerName, 200); err != nil {
		return err
	}
	if err := activity.ValidateLine("time_zone", in.TimeZone, 100); err != nil {
		return err
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return activity.Errorf(activity.EINVALID, "time_zone", "unknown time zone %q", in.TimeZone)
	}
	return nil
}

// create creates the checked workspace and its owner, records the owner's
// user.created and whatever events more returns, in the same transaction.
func (s *WorkspaceService) create(ctx context.Context, in domain.WorkspaceSetup, more func(ws workspaceRow, owner userRow, now time.Time) []activity.Event) (domain.Workspace, domain.User, error) {
	hash, err := s.hasher.Hash(ctx, in.OwnerPassword)
	if err != nil {
		return domain.Workspace{}, domain.User{}, fmt.Errorf("hash owner password: %w", err)
	}
	var ws workspaceRow
	var owner userRow
	err = s.db.inTx(ctx, func(ctx context.Context, tx bun.Tx, now time.Time) error {
		ws = newWorkspaceRow(in, now, s.db.cfg.Retention)
		if _, err := tx.NewInsert().Model(&ws).Exec(ctx); err != nil {
			return fmt.Errorf("insert workspace: %w", err)
		}
		owner = userRow{ID: uuid.NewString(), WorkspaceID: ws.ID, Email: in.OwnerEmail, Name: in.OwnerName, Role: activity.RoleOwner, PasswordHash: hash, Active: true, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&owner).Exec(ctx); err != nil {
			if isUniqueViolation(err, "users_email_key") {
				return activity.Errorf(activity.ECONFLICT, "email", "a user with this email already exists")
			}
			return fmt.Errorf("insert owner: %w", err)
		}
		e := activity.NewEvent(ws.ID, "user.created", now)
		e.Actor = activity.Actor{Type: activity.ActorSystem, Name: "Fluxera"}
		e.Resource = activity.Resource{Type: "user", ID: owner.ID, Name: owner.Name}
		e.Changes = domain.Changes(domain.User{}, owner.user())
		e.Context = domain.EventContext(ctx, "", ws.TimeZone)
		e.Note = "owner of the new workspace " + ws.Name
		events := []activity.Event{e}
		if more != nil {
			events = append(events, more(ws, owner, now)...)
		}
		return s.db.recordEvents(ctx, tx, events...)
	})
	if err != nil {
		return domain.Workspace{}, domain.User{}, err
	}
	return ws.workspace(), owner.user(), nil
}

// callerWorkspace is the caller's workspace as events need it: its id and
// time zone, which come with the credentials; it reads the row only for a
// principal made without them.
func (db *DB) callerWorkspace(ctx context.Context, tx bun.IDB, p activity.Principal) (workspaceRow, error) {
	if p.TimeZone != "" {
		return workspaceRow{ID: p.WorkspaceID, TimeZone: p.TimeZone}, nil
	}
	return db.workspace(ctx, tx, p.WorkspaceID)
}

// workspace loads a workspace inside tx.
func (db *DB) workspace(ctx context.Context, tx bun.IDB, id string) (workspaceRow, error) {
	var ws workspaceRow
	err := tx.NewSelect().Model(&ws).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ws, activity.Errorf(activity.ENOTFOUND, "", "workspace not found")
	}
	if err != nil {
		return ws, fmt.Errorf("select workspace: %w", err)
	}
	return ws, nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254
}
