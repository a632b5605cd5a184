package dashboards

import (
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// view is what every page shows around its content: who is signed in, the
// navigation, the form token and the workspace's time zone.
type view struct {
	Title     string
	Principal activity.Principal
	SignedIn  bool
	// Section is the navigation entry the page belongs to.
	Section string
	CSRF    string
	Notice  string
	// Zone is the workspace's time zone, in which times are shown.
	Zone *time.Location
	// Workspace is whether the caller sees the whole workspace's log.
	Workspace bool
}

// baseView fills in the view of a page for the request's caller.
func (c *Console) baseView(ctx *fiber.Ctx, title string) view {
	v := view{Title: title, CSRF: c.csrfToken(ctx), Zone: time.UTC}
	if p, ok := activity.PrincipalFrom(ctx.UserContext()); ok {
		v.Principal, v.SignedIn = p, true
		v.Workspace = domain.Can(p.Role, domain.ViewWorkspaceLog)
		v.Zone = searchapi.Zone(p.TimeZone)
	}
	return v
}

// Local is t in the workspace's time zone, as people read it.
func (v view) Local(t time.Time) string { return t.In(v.Zone).Format(localLayout) }

// UTC is t as the UTC instant, for the title and datetime attributes.
func (v view) UTC(t time.Time) string { return t.UTC().Format(utcLayout) }

// localLayout and utcLayout are how Local and UTC write times.
const (
	localLayout = "Mon 2 Jan 2006, 15:04:05 MST"
	utcLayout   = "2006-01-02T15:04:05.000Z"
)

// Can reports whether the caller's role holds the permission named by one
// of the keys canNames lists.
func (v view) Can(name string) bool {
	perm, ok := canNames[name]
	return ok && domain.Can(v.Principal.Role, perm)
}

// canNames are the permissions templates ask about.
var canNames = map[string]domain.Permission{
	"workspace":    domain.ViewWorkspaceLog,
	"export":       domain.ExportData,
	"members":      domain.ManageMembers,
	"alerts":       domain.ManageAlerts,
	"settings":     domain.ManageSettings,
	"integrations": domain.ManageIntegration,
	"retention":    domain.ManageRetention,
}

// errorView is a page that says why a request failed.
type errorView struct {
	view
	Status  int
	Message string
	Field   string
}

// funcs are the functions templates call.
var funcs = template.FuncMap{
	"resourceURL":        resourceURL,
	"label":              label,
	"hasPrefix":          strings.HasPrefix,
	"outcome":            func(s string) bool { return s == activity.OutcomeFailure },
	"deliveryState":      deliveryState,
	"deliveryTarget":     deliveryTarget,
	"describeConditions": alert.DescribeConditions,
	"describeChannels":   alert.DescribeChannels,
	"severityOptions":    func() []option { return severities },
	"inc":                func(i int) int { return i + 1 },
	"alertActions": func(csrf string, a alert.Alert, next string) alertActions {
		return alertActions{CSRF: csrf, Alert: a, Next: next}
	},
	"userResource": func(a activity.Actor) activity.Resource {
		if a.Type != activity.ActorUser {
			return activity.Resource{}
		}
		return activity.Resource{Type: "user", ID: a.ID, Name: a.Name}
	},
}

// resourceURL is the console page of a resource: a user's activity, an
// asset's or a license's history; empty for other resources.
func resourceURL(r activity.Resource) string {
	if !searchapi.IsID(r.ID) {
		return ""
	}
	switch r.Type {
	case "user":
		return "/users/" + r.ID + "/activity"
	case "asset":
		return "/assets/" + r.ID + "/history"
	case "license":
		return "/licenses/" + r.ID + "/history"
	}
	return ""
}

// label turns a field or type name such as purchase_date into words.
func label(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
