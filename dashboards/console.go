package dashboards

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/integration"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/searchapi"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// contentSecurityPolicy lets pages load scripts, styles and images from
// the console's own origin only, and nothing inline.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Services are what the console's pages call: the same services the API's
// handlers call, so that a page may do and see exactly what the API lets
// its caller do and see.
type Services struct {
	Auth          domain.AuthService
	Authenticator domain.Authenticator
	Users         domain.UserService
	Assets        domain.AssetService
	Licenses      domain.LicenseService
	Finder        searchapi.Finder
	Entries       searchapi.EntryReader
	// Reports generates the reports the activity log's Generate Report
	// form asks for.
	Reports Reporter
	// Denials records refusals as the API records its 403s.
	Denials domain.AccessRecorder
	// Invitations answers the invitations whose links people open.
	Invitations domain.InvitationService
	// Webhooks keeps Settings › Integrations' activity webhooks.
	Webhooks integration.WebhookService
	// Settings, AlertRules, Alerts and Detection are Settings › Workspace
	// and Settings › Activity Alerts.
	Settings   domain.SettingsService
	AlertRules alert.AlertRuleService
	Alerts     alert.AlertService
	Detection  alert.DetectionService
	// Analyst computes the Activity Analytics page's analyses, and
	// AlertTimes its alert response times.
	Analyst    searchapi.Analyst
	AlertTimes alert.ResponseTimer
	// Choices lists what the listings' filters offer by name.
	Choices domain.ChoiceLister
	// LogViews records the Activity Log page's searches as the API
	// records GET /api/v1/activity; without it, none is recorded.
	LogViews domain.LogViewRecorder
	// Restores are Settings › Archive; without them, the console has no
	// such page.
	Restores ArchiveRestores
}

// Config says how the console shares the API's session.
type Config struct {
	// CookieName is the name the session cookie is read under.
	CookieName string
	// Cookie returns the session cookie carrying token until expires, as
	// the API's login sets it.
	Cookie func(token string, expires time.Time) *fiber.Cookie
	// CookieSecure marks the console's own CSRF cookie Secure and gives it
	// the __Host- prefix, as the session cookie has.
	CookieSecure bool
	// Retention are the platform's limits of the retention settings, which
	// the workspace settings page states; domain.DefaultRetentionLimits
	// when zero.
	Retention domain.RetentionLimits
}

// Validate checks that the session is shared.
func (c Config) Validate() error {
	if c.CookieName == "" || c.Cookie == nil {
		return errors.New("dashboards: the session cookie's name and maker are required")
	}
	return nil
}

// Console serves the web console's pages.
type Console struct {
	cfg   Config
	svc   Services
	log   logrus.FieldLogger
	pages map[string]*template.Template
	now   func() time.Time
	// options are the filters' options as last written for each
	// workspace.
	options writtenOptions
}

// New returns the console, its templates parsed. It fails when a service
// is missing or a template does not parse.
func New(cfg Config, s Services, log logrus.FieldLogger) (*Console, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Retention == (domain.RetentionLimits{}) {
		cfg.Retention = domain.DefaultRetentionLimits()
	}
	if s.Auth == nil || s.Authenticator == nil || s.Users == nil || s.Assets == nil || s.Licenses == nil ||
		s.Finder == nil || s.Entries == nil || s.Reports == nil || s.Denials == nil ||
		s.Settings == nil || s.AlertRules == nil || s.Alerts == nil || s.Detection == nil || s.Invitations == nil ||
		s.Analyst == nil || s.AlertTimes == nil || s.Webhooks == nil || s.Choices == nil {
		return nil, errors.New("dashboards: every service is required")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Console{cfg: cfg, svc: s, log: log, pages: pages, now: time.Now}, nil
}

// parsePages parses each page template together with the layout and the
// shared fragments.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || base == "fragments.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/fragments.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// Register mounts the console's pages on r, the server's root router. The
// API keeps /api/v1; the console takes the other paths it names here.
func (c *Console) Register(r fiber.Router) {
	r.Get("/static/*", c.static)
	r.Get("/login", c.page(c.loginPage))
	r.Post("/login", c.page(c.signIn))
	r.Post("/logout", c.page(c.signOut))
	r.Get("/invitations/accept", c.page(c.invitationPage))
	r.Post("/invitations/accept", c.page(c.acceptInvitation))
	r.Post("/invitations/decline", c.page(c.declineInvitation))
	r.Get("/", c.page(c.signedIn(c.home)))
	r.Get("/settings/activity-log", c.page(c.signedIn(c.activityLog)))
	r.Get("/settings/activity-log/export", c.page(c.signedIn(c.exportLog)))
	r.Post("/settings/activity-log/report", c.page(c.signedIn(c.generateReport)))
	r.Get("/settings/analytics", c.page(c.signedIn(c.analytics)))
	r.Get("/settings/analytics/data", c.page(c.signedIn(c.analyticsData)))
	r.Get("/me/activity", c.page(c.signedIn(c.myActivity)))
	r.Get("/me/activity/export", c.page(c.signedIn(c.exportMine)))
	r.Get("/activity/:id", c.page(c.signedIn(c.entry)))
	r.Get(integrationsPath, c.page(c.signedIn(c.integrations)))
	r.Post(integrationsPath+"/webhooks", c.page(c.signedIn(c.createWebhook)))
	r.Post(integrationsPath+"/webhooks/:id/:change", c.page(c.signedIn(c.changeWebhook)))
	r.Get("/users", c.page(c.signedIn(c.users)))
	r.Get("/users/:id", c.page(c.signedIn(c.userTab)))
	r.Get("/users/:id/activity", c.page(c.signedIn(c.userActivity)))
	r.Get("/assets", c.page(c.signedIn(c.assets)))
	r.Get("/assets/:id", c.page(c.signedIn(c.assetTab)))
	r.Get("/assets/:id/history", c.page(c.signedIn(c.assetHistory)))
	r.Get("/licenses", c.page(c.signedIn(c.licenses)))
	r.Get("/licenses/:id", c.page(c.signedIn(c.licenseTab)))
	r.Get("/licenses/:id/history", c.page(c.signedIn(c.licenseHistory)))
	r.Get(alertsPath, c.page(c.signedIn(c.activityAlerts)))
	r.Post(alertsPath+"/rules", c.page(c.signedIn(c.createRule)))
	r.Get(alertsPath+"/alerts/:id", c.page(c.signedIn(c.raisedAlert)))
	r.Post(alertsPath+"/alerts/:id/acknowledge", c.page(c.signedIn(c.acknowledgeAlert)))
	r.Post(alertsPath+"/alerts/:id/resolve", c.page(c.signedIn(c.resolveAlert)))
	r.Get(detectionPath, c.page(c.signedIn(c.detection)))
	r.Post(detectionPath, c.page(c.signedIn(c.saveDetection)))
	r.Get(workspacePath, c.page(c.signedIn(c.workspaceSettings)))
	r.Post(workspacePath, c.page(c.signedIn(c.saveWorkspaceSettings)))
	if c.svc.Restores != nil {
		r.Get(archivePath, c.page(c.signedIn(c.archive)))
		r.Post(archivePath+"/restores", c.page(c.signedIn(c.createRestore)))
		r.Post(archivePath+"/restores/:id/end", c.page(c.signedIn(c.endRestore)))
	}
}

// static serves the embedded stylesheet and scripts.
func (c *Console) static(ctx *fiber.Ctx) error {
	name := ctx.Params("*")
	if name == "" || strings.Contains(name, "..") {
		return fiber.ErrNotFound
	}
	b, err := staticFiles.ReadFile("static/" + name)
	if err != nil {
		return fiber.ErrNotFound
	}
	switch path.Ext(name) {
	case ".css":
		ctx.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	case ".js":
		ctx.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	default:
		ctx.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	}
	ctx.Set("X-Content-Type-Options", "nosniff")
	ctx.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return ctx.Send(b)
}

// page sets the headers of every console page: a strict CSP, no framing,
// no sniffing, and no caching of what a signed-in person saw. An error the
// handler returns is shown as a page with its message; internal errors
// are logged here, once, and shown without detail.
func (c *Console) page(h fiber.Handler) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		ctx.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
		ctx.Set(fiber.HeaderXFrameOptions, "DENY")
		ctx.Set("X-Content-Type-Options", "nosniff")
		ctx.Set(fiber.HeaderReferrerPolicy, "same-origin")
		ctx.Set(fiber.HeaderCacheControl, "no-store")
		ctx.Set(fiber.HeaderVary, "HX-Request")
		err := h(ctx)
		if err == nil {
			return nil
		}
		return c.errorPage(ctx, err)
	}
}

// errorPage shows err as a page with the status and the message the API
// would answer it with (see httpapi.Describe). A refusal is recorded as the
// API records one; an internal error is logged here, once.
func (c *Console) errorPage(ctx *fiber.Ctx, err error) error {
	status, detail := httpapi.Describe(err)
	message := detail.Message
	switch detail.Code {
	case activity.EFORBIDDEN:
		c.recordDenied(ctx, err)
	case activity.EINTERNAL:
		c.log.WithError(err).WithFields(logrus.Fields{"method": ctx.Method(), "path": ctx.Path()}).Error("A console page failed.")
		message = "Something went wrong on our side; try again in a moment."
	}
	v := c.baseView(ctx, "Error")
	return c.render(ctx.Status(status), "error", &errorView{view: v, Status: status, Message: message, Field: detail.Field})
}

// recordDenied records the refusal of a console page for its caller, as
// auth.access_denied, like any 403 of the API.
func (c *Console) recordDenied(ctx *fiber.Ctx, err error) {
	p, ok := activity.PrincipalFrom(ctx.UserContext())
	if !ok {
		return
	}
	d := domain.AccessDenial{Method: ctx.Method(), Path: ctx.Path(), Reason: activity.ErrorMessage(err), Resource: pageResource(p, ctx)}
	if r := ctx.Route(); r != nil {
		d.Route = r.Path
	}
	if err := c.svc.Denials.RecordAccessDenied(ctx.UserContext(), p, d); err != nil {
		c.log.WithError(err).WithField("path", d.Path).Error("A refused page could not be recorded.")
	}
}

// pageResource is what a refused page was about: the user, asset or
// license its path names, or the workspace for its log.
func pageResource(p activity.Principal, ctx *fiber.Ctx) activity.Resource {
	id := strings.ToLower(ctx.Params("id"))
	if !searchapi.IsID(id) {
		id = ""
	}
	switch {
	case strings.HasPrefix(ctx.Path(), "/users/"):
		return activity.Resource{Type: "user", ID: id}
	case strings.HasPrefix(ctx.Path(), "/assets/"):
		return activity.Resource{Type: "asset", ID: id}
	case strings.HasPrefix(ctx.Path(), "/licenses/"):
		return activity.Resource{Type: "license", ID: id}
	case strings.HasPrefix(ctx.Path(), "/settings/"):
		return activity.Resource{Type: "workspace", ID: p.WorkspaceID}
	}
	return activity.Resource{}
}

// render writes the page name with data, or, for an htmx request that
// asks for part of a page, the fragment of that name when it has one.
func (c *Console) render(ctx *fiber.Ctx, name string, data any) error {
	return c.execute(ctx, name, "layout", data)
}

// renderFragment writes one named fragment of a page, for htmx.
func (c *Console) renderFragment(ctx *fiber.Ctx, page, fragment string, data any) error {
	return c.execute(ctx, page, fragment, data)
}

// execute writes the template named tmpl of page with data straight into
// the response's buffered body; a template that fails leaves the body
// empty, for the error page.
func (c *Console) execute(ctx *fiber.Ctx, page, tmpl string, data any) error {
	t, ok := c.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	res := ctx.Response()
	res.ResetBody()
	if err := t.ExecuteTemplate(res.BodyWriter(), tmpl, data); err != nil {
		res.ResetBody()
		return fmt.Errorf("render %s of %s: %w", tmpl, page, err)
	}
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return nil
}

// partial reports whether the request comes from htmx asking for a part of
// a page to swap in.
func partial(ctx *fiber.Ctx) bool { return ctx.Get("HX-Request") == "true" }
