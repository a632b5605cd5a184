package dashboards

import (
	"context"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// Reporter generates reports; the report service is one.
type Reporter interface {
	// Generate computes and keeps a report. It returns EFORBIDDEN when p
	// may not generate reports and EINVALID naming the bad field of q.
	Generate(ctx context.Context, p activity.Principal, q searchapi.ReportQuery) (report.Report, error)
}

// reportTypes are the report types the form offers.
var reportTypes = []option{
	{searchapi.ReportUser, "User activity"}, {searchapi.ReportAsset, "Asset activity"},
	{searchapi.ReportLicense, "License activity"}, {searchapi.ReportSecurity, "Security"},
}

// reportView is a report just generated, with its downloads.
type reportView struct {
	view
	Report report.Report
}

// generateReport generates the report the activity log's form asks for,
// over the log's user and action type filters and the form's period, and
// shows where to download it.
func (c *Console) generateReport(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	form := filterForm{
		User: ctx.FormValue("user"), Category: ctx.FormValue("category"),
		Date: ctx.FormValue("date"), From: ctx.FormValue("from"), To: ctx.FormValue("to"),
	}
	if form.Date == "" && (form.From != "" || form.To != "") {
		form.Date = "custom"
	}
	var filter searchapi.EventFilter
	if err := form.apply(&filter, c, c.baseView(ctx, "")); err != nil {
		return err
	}
	q := searchapi.ReportQuery{
		Type: ctx.FormValue("type"), Range: filter.Range, From: filter.From, To: filter.To,
		Users: filter.Users, ActivityTypes: append(filter.Categories, filter.Actions...),
	}
	r, err := c.svc.Reports.Generate(ctx.UserContext(), p, q)
	if err != nil {
		return err
	}
	v := &reportView{view: c.baseView(ctx, r.Name), Report: r}
	v.Section = "log"
	return c.render(ctx.Status(fiber.StatusCreated), "report", v)
}
