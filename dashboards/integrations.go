package dashboards

import (
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/integration"
)

// integrationsPath is Settings › Integrations.
const integrationsPath = "/settings/integrations"

// outcomes are the outcome filter's choices.
var outcomes = []option{{"", "Successes and failures"}, {activity.OutcomeSuccess, "Successes only"}, {activity.OutcomeFailure, "Failures only"}}

// integrationsView is Settings › Integrations: the workspace's activity
// webhooks, their delivery state, and a form that adds one.
type integrationsView struct {
	view
	Webhooks []integration.Webhook
	// Created is the webhook just made, shown once with its secret.
	Created *integration.Webhook
	// Form is the new webhook's form as typed, when it was refused.
	Form              webhookForm
	Error, ErrorField string
	Categories        []option
	Outcomes          []option
}

// webhookForm is the add-a-webhook form as typed.
type webhookForm struct {
	Name, URL, Actions, Outcome string
	Categories                  []string
}

// Has reports whether the form's categories hold c.
func (f webhookForm) Has(c string) bool {
	for _, v := range f.Categories {
		if v == c {
			return true
		}
	}
	return false
}

// webhookCategories are the categories a webhook filters on: the log's
// action types but data exports, which are system actions, not a category.
var webhookCategories = slices.DeleteFunc(slices.Clone(categories), func(o option) bool { return o.Value == exportsType })

func (c *Console) integrationsView(ctx *fiber.Ctx) *integrationsView {
	v := &integrationsView{view: c.baseView(ctx, "Integrations"), Categories: webhookCategories, Outcomes: outcomes}
	v.Section = "integrations"
	return v
}

// integrations lists the webhooks; the service refuses, and the console
// records, a caller whose role may not configure integrations.
func (c *Console) integrations(ctx *fiber.Ctx) error {
	v := c.integrationsView(ctx)
	return c.showIntegrations(ctx, v, fiber.StatusOK)
}

func (c *Console) showIntegrations(ctx *fiber.Ctx, v *integrationsView, status int) error {
	hooks, err := c.svc.Webhooks.ListWebhooks(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	v.Webhooks = hooks
	return c.render(ctx.Status(status), "integrations", v)
}

// createWebhook adds a webhook through the API's service, which checks the
// URL is public and records system.integration_configured, and shows its
// signing secret once.
func (c *Console) createWebhook(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	v := c.integrationsView(ctx)
	form := webhookForm{
		Name: ctx.FormValue("name"), URL: ctx.FormValue("url"), Actions: ctx.FormValue("actions"),
		Outcome: ctx.FormValue("outcome"),
	}
	args := ctx.Request().PostArgs()
	for _, b := range args.PeekMulti("categories") {
		form.Categories = append(form.Categories, string(b))
	}
	in := integration.WebhookCreate{Name: form.Name, URL: form.URL, Filter: integration.Filter{
		Categories: form.Categories, Actions: splitList(form.Actions), Outcome: form.Outcome,
	}}
	w, err := c.svc.Webhooks.CreateWebhook(ctx.UserContext(), v.Principal, in)
	if err != nil {
		if activity.ErrorCode(err) != activity.EINVALID {
			return err
		}
		v.Form, v.Error, v.ErrorField = form, activity.ErrorMessage(err), activity.ErrorField(err)
		return c.showIntegrations(ctx, v, fiber.StatusBadRequest)
	}
	v.Created = &w
	return c.showIntegrations(ctx, v, fiber.StatusCreated)
}

// splitList reads a comma- or space-separated list, without empty items.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

// changeWebhook pauses, resumes, replays or deletes a webhook through the
// API's service, which records each change, and shows the list again.
func (c *Console) changeWebhook(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	v := c.integrationsView(ctx)
	id, p, uctx := ctx.Params("id"), v.Principal, ctx.UserContext()
	var err error
	switch ctx.Params("change") {
	case "pause", "resume":
		paused := ctx.Params("change") == "pause"
		var w integration.Webhook
		if w, err = c.svc.Webhooks.UpdateWebhook(uctx, p, id, integration.WebhookUpdate{Paused: &paused}); err == nil {
			v.Notice = w.Name + map[bool]string{true: " is paused: its events wait until it is resumed.", false: " is resumed: what waited is sent now, in order."}[paused]
		}
	case "delete":
		if err = c.svc.Webhooks.DeleteWebhook(uctx, p, id, ""); err == nil {
			v.Notice = "The webhook is deleted; nothing more is sent to it."
		}
	case "replay":
		var from time.Time
		if from, err = time.ParseInLocation("2006-01-02T15:04", ctx.FormValue("from"), v.Zone); err != nil {
			err = activity.Errorf(activity.EINVALID, "from", "from must be a date and time, such as 2026-12-01T09:00")
		} else if _, err = c.svc.Webhooks.ReplayWebhook(uctx, p, id, from); err == nil {
			v.Notice = "The events since " + v.Local(from) + " are sent again, as new deliveries, behind those waiting."
		}
	default:
		return activity.Errorf(activity.ENOTFOUND, "", "no such change of a webhook")
	}
	if err != nil {
		if activity.ErrorCode(err) != activity.EINVALID {
			return err
		}
		v.Error, v.ErrorField = activity.ErrorMessage(err), activity.ErrorField(err)
		return c.showIntegrations(ctx, v, fiber.StatusBadRequest)
	}
	return c.showIntegrations(ctx, v, fiber.StatusOK)
}
