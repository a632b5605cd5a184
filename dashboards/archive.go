package dashboards

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi/retention"
)

// archivePath is Settings › Archive.
const archivePath = "/settings/archive"

// ArchiveRestores are Settings › Archive's archived months and restores
// of archived periods: the service the API's /api/v1/archive/restores
// routes call (retention.Restorer).
type ArchiveRestores interface {
	Months(ctx context.Context, p activity.Principal) ([]retention.Manifest, error)
	Create(ctx context.Context, p activity.Principal, req retention.RestoreRequest) (domain.ArchiveRestore, error)
	List(ctx context.Context, p activity.Principal) ([]domain.ArchiveRestore, error)
	End(ctx context.Context, p activity.Principal, id string) (domain.ArchiveRestore, error)
	MaxRestoreDays() int
}

// archiveView is Settings › Archive: the months the retention job moved
// to the archive, a form that restores a period of them into the
// searchable log for a while, and the restores with their state.
type archiveView struct {
	view
	Months   []retention.Manifest
	Restores []domain.ArchiveRestore
	MaxDays  int
	Now      time.Time
	// Form is the restore form as typed, when it was refused.
	Form              restoreForm
	Error, ErrorField string
}

// restoreForm is the restore form as typed.
type restoreForm struct{ From, To, Days string }

// Open reports whether a restore may still be ended: one pending, or
// restored and not yet past its expiry.
func (v archiveView) Open(r domain.ArchiveRestore) bool {
	return r.Status == domain.RestorePending || (r.Status == domain.RestoreRestored && r.ExpiresAt.After(v.Now))
}

// Ending reports whether a restore is past its expiry and its entries
// wait for the retention job's next run to leave the log.
func (v archiveView) Ending(r domain.ArchiveRestore) bool {
	return r.Status == domain.RestoreRestored && !r.ExpiresAt.After(v.Now)
}

// mayManageRetention returns EFORBIDDEN, in words a person reads, unless
// the caller's role restores archived periods.
func mayManageRetention(p activity.Principal) error {
	if !domain.Can(p.Role, domain.ManageRetention) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may not see or restore the archive: only the workspace's owners may", p.Role)
	}
	return nil
}

func (c *Console) archiveView(ctx *fiber.Ctx) *archiveView {
	v := &archiveView{view: c.baseView(ctx, "Archive"), Now: c.now(), MaxDays: c.svc.Restores.MaxRestoreDays(), Form: restoreForm{Days: strconv.Itoa(min(domain.DefaultRestoreDays, c.svc.Restores.MaxRestoreDays()))}}
	v.Section = "archive"
	return v
}

// archive shows the archived months and the restores.
func (c *Console) archive(ctx *fiber.Ctx) error {
	v := c.archiveView(ctx)
	if err := mayManageRetention(v.Principal); err != nil {
		return err
	}
	switch ctx.Query("done") {
	case "restore":
		v.Notice = "The restore is asked for: the period becomes searchable at the retention job's next run, marked as restored."
	case "end":
		v.Notice = "The restore is ended: its entries leave the searchable log at the retention job's next run; the archive keeps them."
	}
	return c.showArchive(ctx, v, fiber.StatusOK)
}

func (c *Console) showArchive(ctx *fiber.Ctx, v *archiveView, status int) error {
	months, err := c.svc.Restores.Months(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	restores, err := c.svc.Restores.List(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	v.Months, v.Restores = months, restores
	return c.render(ctx.Status(status), "archive", v)
}

// createRestore asks for a period to be restored through the API's
// service, which records it; a refused form is shown again as typed, with
// why.
func (c *Console) createRestore(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	v := c.archiveView(ctx)
	if err := mayManageRetention(v.Principal); err != nil {
		return err
	}
	v.Form = restoreForm{From: strings.TrimSpace(ctx.FormValue("from")), To: strings.TrimSpace(ctx.FormValue("to")), Days: strings.TrimSpace(ctx.FormValue("days"))}
	req, err := readRestoreForm(v.Form)
	if err == nil {
		_, err = c.svc.Restores.Create(ctx.UserContext(), v.Principal, req)
	}
	if err != nil {
		if code := activity.ErrorCode(err); code != activity.EINVALID && code != activity.ECONFLICT {
			return err
		}
		v.Error, v.ErrorField = activity.ErrorMessage(err), activity.ErrorField(err)
		status := fiber.StatusBadRequest
		if activity.ErrorCode(err) == activity.ECONFLICT {
			status = fiber.StatusConflict
		}
		return c.showArchive(ctx, v, status)
	}
	return ctx.Redirect(archivePath+"?done=restore", fiber.StatusSeeOther)
}

// readRestoreForm reads the form's days (YYYY-MM-DD, UTC, to included)
// and number of days; what does not read is EINVALID on its field.
func readRestoreForm(f restoreForm) (retention.RestoreRequest, error) {
	var req retention.RestoreRequest
	var err error
	if req.From, err = retention.ParsePeriodBound(f.From, false); err != nil {
		return req, activity.Errorf(activity.EINVALID, "from", "from must be a day such as 2026-01-01")
	}
	if req.To, err = retention.ParsePeriodBound(f.To, true); err != nil {
		return req, activity.Errorf(activity.EINVALID, "to", "to must be a day such as 2026-01-31")
	}
	if req.Days, err = strconv.Atoi(f.Days); err != nil || req.Days < 1 {
		return req, activity.Errorf(activity.EINVALID, "days", "days must be a whole number of at least 1")
	}
	return req, nil
}

// endRestore ends a restore now through the API's service, which records
// it.
func (c *Console) endRestore(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageRetention(p); err != nil {
		return err
	}
	if _, err := c.svc.Restores.End(ctx.UserContext(), p, ctx.Params("id")); err != nil {
		return err
	}
	return ctx.Redirect(archivePath+"?done=end", fiber.StatusSeeOther)
}
