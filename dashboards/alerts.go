package dashboards

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

// alertsPath is Settings › Activity Alerts.
const alertsPath = "/settings/activity-alerts"

// alertPageSize is how many raised alerts a page of the list shows, each
// with its deliveries.
const alertPageSize = 20

// watchedTypes are the activity types the alert form offers: the guide's
// action types, then actions worth an alert of their own.
var watchedTypes = []option{
	{activity.CategoryAuth, "Login events (every one)"},
	{"auth.login_failed", "Failed logins"},
	{activity.CategoryAsset, "Asset actions (every one)"},
	{"asset.assigned", "Asset assignments"},
	{"asset.deleted", "Asset deletions"},
	{activity.CategoryLicense, "License actions (every one)"},
	{"license.assigned", "License assignments"},
	{"license.deleted", "License deletions"},
	{"license.key_viewed", "License key views"},
	{activity.CategoryUser, "User management (every one)"},
	{"user.role_changed", "Role changes"},
	{"user.deactivated", "Deactivations"},
	{activity.CategorySystem, "System changes (every one)"},
	{"system.settings_changed", "Settings changes"},
	{"system.data_exported", "Data exports"},
}

// severities are the severities of an alert, mildest first.
var severities = []option{{"low", "Low"}, {"medium", "Medium"}, {"high", "High"}, {"critical", "Critical"}}

// methods are how an alert is sent.
var methods = []option{{alert.ChannelEmail, "Email"}, {alert.ChannelWebhook, "Webhook (signed JSON)"}, {alert.ChannelChat, "Chat (Slack or Teams incoming webhook)"}}

// operators are a condition's comparisons, in words.
var operators = []option{
	{alert.OpGreater, "is more than"}, {alert.OpGreaterEqual, "is at least"},
	{alert.OpLess, "is less than"}, {alert.OpLessEqual, "is at most"}, {alert.OpEqual, "is exactly"},
}

// alertStates are the states the list of raised alerts filters on.
var alertStates = []option{{alert.AlertOpen, "Open"}, {alert.AlertAcknowledged, "Acknowledged"}, {alert.AlertResolved, "Resolved"}}

// ruleForm is the form that creates an alert, as posted.
type ruleForm struct {
	Name, ActivityType, Severity  string
	Users                         []string
	Threshold, WindowMinutes      string
	Method, Recipients, URL       string
	CondField, CondOperator       string
	CondValue, CondCurrency, Note string
}

// alertsView is Settings › Activity Alerts: the presets, the workspace's
// alerts (rules), the form that creates one, and the alerts raised.
type alertsView struct {
	view
	Presets []alert.AlertPreset
	Rules   []alert.AlertRule
	Members []domain.User
	Form    ruleForm
	// Error and ErrorField say why the form was refused.
	Error, ErrorField string
	State             string
	Raised            []alert.AlertDetail
	More              string
	// Choices of the form.
	Types, Severities, Methods, Operators, States []option
	Fields                                        []alert.ConditionField
}

// ruleFieldLabels are the labels of the alert form's inputs, by name.
var ruleFieldLabels = map[string]string{
	"name": "Name", "activity_type": "Activity type", "users": "Users", "severity": "Severity",
	"threshold": "How many", "window_minutes": "Within minutes", "cond_field": "Condition field",
	"cond_operator": "Comparison", "cond_value": "Amount", "cond_currency": "Currency",
	"method": "Method", "recipients": "Recipients", "url": "URL", "note": "Note",
}

// ErrorLabel is the label of the input the refusal is about.
func (v *alertsView) ErrorLabel() string {
	if l, ok := ruleFieldLabels[v.ErrorField]; ok {
		return l
	}
	return label(v.ErrorField)
}

// Invalid reports whether the refused field is one of names, for
// aria-invalid.
func (v *alertsView) Invalid(names ...string) bool {
	for _, n := range names {
		if v.ErrorField == n {
			return true
		}
	}
	return false
}

// Selected reports whether id is one of the form's users.
func (v *alertsView) Selected(id string) bool {
	for _, u := range v.Form.Users {
		if u == id {
			return true
		}
	}
	return false
}

// mayManageAlerts returns EFORBIDDEN, in words a person reads, unless the
// caller's role manages alerts.
func mayManageAlerts(p activity.Principal) error {
	if !domain.Can(p.Role, domain.ManageAlerts) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may not manage activity alerts: only the workspace's owners and admins may; ask one of them", p.Role)
	}
	return nil
}

// activityAlerts shows Settings › Activity Alerts.
func (c *Console) activityAlerts(ctx *fiber.Ctx) error {
	v := &alertsView{view: c.baseView(ctx, "Activity Alerts"), Form: ruleForm{Severity: "medium", Method: alert.ChannelEmail}}
	switch {
	case ctx.Query("created") != "":
		v.Notice = "The alert was created; it watches new activity from now on."
	case ctx.Query("saved") != "":
		v.Notice = "The detection settings were saved."
	}
	return c.showAlerts(ctx, v)
}

// showAlerts fills in the page's lists and renders it.
func (c *Console) showAlerts(ctx *fiber.Ctx, v *alertsView) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	v.Section = "alerts"
	v.Types, v.Severities, v.Methods, v.Operators, v.States = watchedTypes, severities, methods, operators, alertStates
	for _, name := range alert.ConditionFieldNames() {
		v.Fields = append(v.Fields, alert.ConditionFields[name])
	}
	var err error
	if v.Presets, err = c.svc.AlertRules.ListAlertPresets(ctx.UserContext(), p); err != nil {
		return err
	}
	if v.Rules, err = c.svc.AlertRules.ListAlertRules(ctx.UserContext(), p); err != nil {
		return err
	}
	if v.Members, err = c.svc.Users.ListUsers(ctx.UserContext(), p); err != nil {
		return err
	}
	v.State = ctx.Query("state")
	page, err := c.svc.Alerts.FindAlerts(ctx.UserContext(), p, alert.AlertFilter{State: v.State, Limit: alertPageSize, Cursor: ctx.Query("cursor")})
	if err != nil {
		return err
	}
	for _, a := range page.Alerts {
		d, err := c.svc.Alerts.FindAlert(ctx.UserContext(), p, a.ID)
		if err != nil {
			return err
		}
		v.Raised = append(v.Raised, d)
	}
	if page.NextCursor != "" {
		q := url.Values{"cursor": {page.NextCursor}}
		if v.State != "" {
			q.Set("state", v.State)
		}
		v.More = alertsPath + "?" + q.Encode() + "#raised"
	}
	return c.render(ctx, "alerts", v)
}

// createRule creates an alert from a preset or from the form, and sends
// the browser back to the page; a refused form is shown again with what
// was typed and why, with the 4xx status the API would answer.
func (c *Console) createRule(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	var in alert.AlertRuleCreate
	form := ruleForm{Severity: "medium", Method: alert.ChannelEmail}
	if preset := ctx.FormValue("preset"); preset != "" {
		in.Preset = preset
	} else {
		form = readRuleForm(ctx)
		var err error
		if in, err = form.create(); err != nil {
			return c.refuseRule(ctx, form, err)
		}
	}
	if _, err := c.svc.AlertRules.CreateAlertRule(ctx.UserContext(), p, in); err != nil {
		return c.refuseRule(ctx, form, err)
	}
	return ctx.Redirect(alertsPath+"?created=1", fiber.StatusSeeOther)
}

// refuseRule shows the page again with the form as typed when err is bad
// input, and returns any other error.
func (c *Console) refuseRule(ctx *fiber.Ctx, form ruleForm, err error) error {
	if activity.ErrorCode(err) != activity.EINVALID {
		return err
	}
	v := &alertsView{view: c.baseView(ctx, "Activity Alerts"), Form: form, Error: activity.ErrorMessage(err), ErrorField: formField(activity.ErrorField(err))}
	ctx.Status(fiber.StatusBadRequest)
	return c.showAlerts(ctx, v)
}

// formField is the name of the form's input a field of the API's rule
// comes from.
func formField(field string) string {
	switch {
	case strings.HasPrefix(field, "conditions[0]."):
		return "cond_" + strings.TrimPrefix(field, "conditions[0].")
	case field == "conditions":
		return "cond_field"
	case strings.HasPrefix(field, "channels[0].to"), strings.HasPrefix(field, "channels[0].roles"):
		return "recipients"
	case strings.HasPrefix(field, "channels[0].url"):
		return "url"
	case strings.HasPrefix(field, "channels"):
		return "method"
	case field == "activity_types":
		return "activity_type"
	case field == "user_ids":
		return "users"
	}
	return field
}

func readRuleForm(ctx *fiber.Ctx) ruleForm {
	f := ruleForm{
		Name: ctx.FormValue("name"), ActivityType: ctx.FormValue("activity_type"), Severity: ctx.FormValue("severity"),
		Threshold: strings.TrimSpace(ctx.FormValue("threshold")), WindowMinutes: strings.TrimSpace(ctx.FormValue("window_minutes")),
		Method: ctx.FormValue("method"), Recipients: ctx.FormValue("recipients"), URL: strings.TrimSpace(ctx.FormValue("url")),
		CondField: ctx.FormValue("cond_field"), CondOperator: ctx.FormValue("cond_operator"),
		CondValue: strings.TrimSpace(ctx.FormValue("cond_value")), CondCurrency: strings.TrimSpace(ctx.FormValue("cond_currency")),
		Note: ctx.FormValue("note"),
	}
	args := ctx.Request().PostArgs()
	for _, u := range args.PeekMulti("users") {
		if s := strings.TrimSpace(string(u)); s != "" {
			f.Users = append(f.Users, s)
		}
	}
	return f
}

// create turns the form into a new rule. Numbers that do not read are
// refused here, naming their field; the rest is the rule's own checks.
func (f ruleForm) create() (alert.AlertRuleCreate, error) {
	in := alert.AlertRuleCreate{Name: &f.Name, Severity: &f.Severity, Note: f.Note}
	types := []string{}
	if f.ActivityType != "" {
		types = append(types, f.ActivityType)
	}
	users := append([]string{}, f.Users...)
	in.ActivityTypes, in.UserIDs = &types, &users
	for _, n := range []struct {
		field, value string
		to           **int
	}{{"threshold", f.Threshold, &in.Threshold}, {"window_minutes", f.WindowMinutes, &in.WindowMinutes}} {
		if n.value == "" {
			continue
		}
		i, err := strconv.Atoi(n.value)
		if err != nil {
			return in, activity.Errorf(activity.EINVALID, n.field, "%s must be a whole number", n.field)
		}
		*n.to = &i
	}
	channel := alert.Channel{Type: f.Method}
	switch f.Method {
	case alert.ChannelEmail:
		for _, to := range strings.FieldsFunc(f.Recipients, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' }) {
			channel.To = append(channel.To, to)
		}
		if len(channel.To) == 0 {
			channel.Roles = []string{activity.RoleOwner, activity.RoleAdmin}
		}
	default:
		channel.URL = f.URL
	}
	in.Channels = &[]alert.Channel{channel}
	conditions := []alert.Condition{}
	if f.CondField != "" || f.CondValue != "" {
		conditions = append(conditions, alert.Condition{Field: f.CondField, Operator: f.CondOperator, Value: f.CondValue, Currency: f.CondCurrency})
	}
	in.Conditions = &conditions
	return in, nil
}

// acknowledgeAlert and resolveAlert move an alert on, then send the
// browser back to where the form was.
func (c *Console) acknowledgeAlert(ctx *fiber.Ctx) error {
	return c.moveAlert(ctx, func(p activity.Principal, id, note string) error {
		_, err := c.svc.Alerts.AcknowledgeAlert(ctx.UserContext(), p, id, note)
		return err
	})
}

func (c *Console) resolveAlert(ctx *fiber.Ctx) error {
	return c.moveAlert(ctx, func(p activity.Principal, id, note string) error {
		_, err := c.svc.Alerts.ResolveAlert(ctx.UserContext(), p, id, note)
		return err
	})
}

func (c *Console) moveAlert(ctx *fiber.Ctx, move func(p activity.Principal, id, note string) error) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	if err := move(p, ctx.Params("id"), ctx.FormValue("note")); err != nil {
		return err
	}
	next := localPath(ctx.FormValue("next"))
	if next == "/" {
		next = alertsPath + "/alerts/" + url.PathEscape(ctx.Params("id"))
	}
	return ctx.Redirect(next, fiber.StatusSeeOther)
}

// alertView is one raised alert with its deliveries.
type alertView struct {
	view
	Alert alert.AlertDetail
}

// raisedAlert shows one alert, its deliveries and their attempts.
func (c *Console) raisedAlert(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := mayManageAlerts(p); err != nil {
		return err
	}
	d, err := c.svc.Alerts.FindAlert(ctx.UserContext(), p, ctx.Params("id"))
	if err != nil {
		return err
	}
	v := &alertView{view: c.baseView(ctx, "Alert"), Alert: d}
	v.Section = "alerts"
	return c.render(ctx, "alert", v)
}

// deliveryState is a delivery's state in words.
func deliveryState(s string) string {
	switch s {
	case alert.DeliveryNotConfigured:
		return "email not configured"
	case alert.DeliveryPending:
		return "pending"
	case alert.DeliveryDelivered:
		return "delivered"
	case alert.DeliveryFailed:
		return "failed"
	}
	return s
}

// deliveryTarget is where a delivery goes, in words.
func deliveryTarget(d alert.AlertDelivery) string {
	switch d.Type {
	case alert.TargetTopic:
		return "the alert topic (" + alert.AlertTopic + ")"
	case alert.ChannelEmail:
		return "email to " + strings.Join(d.To, ", ")
	}
	host := d.URL
	if u, err := url.Parse(d.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	return d.Type + " to " + host
}

// alertActions are the acknowledge and resolve buttons of an alert; Next
// is where the browser goes afterwards (the alert's page when empty).
type alertActions struct {
	CSRF  string
	Alert alert.Alert
	Next  string
}
