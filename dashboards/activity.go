package dashboards

import (
	"context"
	"errors"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
	"github.com/fluxera/activity/searchapi/query"
)

// filterForm is a listing's filters as its URL carries them. Empty fields
// filter nothing.
type filterForm struct {
	Q, User, Category, Resource string
	// Date is today, yesterday, 7d, 30d, 90d or custom (From and To, dates
	// in the workspace's time zone); empty is every date.
	Date, From, To string
}

// readForm reads a listing's filters from the query string. Unknown and
// empty parameters are ignored, so that a form sent as it stands works.
func readForm(ctx *fiber.Ctx) filterForm {
	f := filterForm{
		Q: ctx.Query("q"), User: strings.TrimSpace(ctx.Query("user")), Category: ctx.Query("category"),
		Resource: ctx.Query("resource"), Date: ctx.Query("date"), From: ctx.Query("from"), To: ctx.Query("to"),
	}
	if f.Date == "" && (f.From != "" || f.To != "") {
		f.Date = "custom"
	}
	if f.Date != "custom" {
		f.From, f.To = "", ""
	}
	return f
}

// values is the form as query parameters, without the empty ones.
func (f filterForm) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"user", f.User}, {"category", f.Category}, {"resource", f.Resource}, {"date", f.Date}, {"from", f.From}, {"to", f.To}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// apply puts the form into an event filter. A date preset is resolved by
// the search API in the workspace's time zone, as of the request; the
// form's own checks return EINVALID naming the field.
func (f filterForm) apply(filter *searchapi.EventFilter, c *Console, v view) error {
	filter.Query = f.Q
	if f.User != "" {
		if !searchapi.IsID(f.User) {
			return activity.Errorf(activity.EINVALID, "user", "user: %q is not a user id", f.User)
		}
		filter.Users = []string{f.User}
	}
	switch f.Category {
	case "":
	case exportsType:
		filter.Actions = append([]string(nil), alert.ExportActions...)
	default:
		filter.Categories = []string{f.Category}
	}
	if f.Resource != "" {
		filter.Resources = []string{f.Resource}
	}
	switch f.Date {
	case "":
	case "today", "7d", "30d", "90d":
		filter.Range = f.Date
	case "yesterday":
		day := c.now().In(v.Zone).AddDate(0, 0, -1).Format("2006-01-02")
		filter.From, filter.To = day, day
	case "custom":
		filter.From, filter.To = f.From, f.To
	default:
		return activity.Errorf(activity.EINVALID, "date", "date must be today, yesterday, 7d, 30d, 90d or custom, not %q", f.Date)
	}
	return nil
}

// option is one choice of a filter's dropdown.
type option struct{ Value, Label string }

// exportsType is the action type of data exports: files and reports taken
// out of the platform, which the guide's "Who exported data yesterday?"
// filters on. They are system actions; the type names them on their own.
const exportsType = "exports"

// categories are the guide's action types.
var categories = []option{
	{activity.CategoryAsset, "Asset actions"}, {activity.CategoryLicense, "License actions"},
	{activity.CategoryUser, "User management"}, {activity.CategorySystem, "System changes"},
	{activity.CategoryAuth, "Login events"}, {exportsType, "Data exports"},
}

// dates are the guide's date presets.
var dates = []option{
	{"today", "Today"}, {"yesterday", "Yesterday"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"},
	{"90d", "Last 90 days"}, {"custom", "Custom range"},
}

// formats are the export formats.
var formats = []option{{"csv", "CSV (for spreadsheets)"}, {"json", "JSON (for data processing)"}, {"ndjson", "NDJSON (one entry a line)"}, {"pdf", "PDF (for reports)"}}

// listView is a page listing activity entries, newest first.
type listView struct {
	view
	Heading string
	// Subject is the user, asset or license the listing is about.
	Subject    *subject
	Path       string
	Form       filterForm
	Filters    bool
	ExportPath string
	QueryError *queryError
	// Error and ErrorField say why the filters could not be read.
	Error, ErrorField string
	Entries           []searchapi.Entry
	Total             int64
	More              string
	Facets            *searchapi.Facets
	// FacetsURL asks for the facet counts of the listing's filter: htmx
	// loads them into the page once it has arrived, and without script
	// it is a link to the page with the counts in it.
	FacetsURL string
	// UserOptions and ResourceOptions are the options of the user and
	// resource filters: what they offer by name.
	UserOptions, ResourceOptions template.HTML
	Categories, Dates            []option
	Formats                      []option
	// Reports are the report types the Generate Report form offers; none
	// on pages without it.
	Reports []option
	// LiveURL is the live activity stream that follows the listing's
	// filters; LiveNote says why live mode is not offered when it could be.
	LiveURL, LiveNote string
}

// FacetURL is the listing's URL with the filter key set to value, the
// other filters kept.
func (v *listView) FacetURL(key, value string) string {
	q := v.Form.values()
	if key == "q" && v.Form.Q != "" {
		value = v.Form.Q + " " + value
	}
	q.Set(key, value)
	return v.Path + "?" + q.Encode()
}

// userOptions are the user filter's choices, the one filtered on
// (selected) marked: each member by name and email.
func userOptions(users []domain.Choice, selected string) template.HTML {
	var b strings.Builder
	b.Grow(len(users) * optionBytes)
	for _, u := range users {
		writeOption(&b, u.ID, u.Name+" ("+u.Email+")", u.ID == selected)
	}
	return template.HTML(b.String())
}

// resourceOptions are the resource filter's choices by name, the one
// filtered on (selected) marked: the assets, the licenses and the
// members, each in a group of its own.
func resourceOptions(c domain.FilterChoices, selected string) template.HTML {
	var b strings.Builder
	b.Grow((len(c.Assets) + len(c.Licenses) + len(c.Users)) * optionBytes)
	for _, g := range []struct {
		label, kind string
		choices     []domain.Choice
	}{{"Assets", "asset", c.Assets}, {"Licenses", "license", c.Licenses}, {"Users", "user", c.Users}} {
		if len(g.choices) == 0 {
			continue
		}
		b.WriteString(`<optgroup label="` + g.label + `">`)
		for _, c := range g.choices {
			value := g.kind + ":" + c.ID
			writeOption(&b, value, c.Name, value == selected)
		}
		b.WriteString("</optgroup>")
	}
	return template.HTML(b.String())
}

// optionBytes is about what an option of a dropdown takes, to size its
// buffer at once.
const optionBytes = 96

// writeOption writes one option of a dropdown, its value and label
// escaped. A page's dropdowns hold one option for every member and up to
// maxChoices assets and licenses: written here, they cost the page a
// fraction of what the template's actions for each would.
func writeOption(b *strings.Builder, value, label string, selected bool) {
	b.WriteString(`<option value="`)
	b.WriteString(template.HTMLEscapeString(value))
	b.WriteByte('"')
	if selected {
		b.WriteString(" selected")
	}
	b.WriteByte('>')
	b.WriteString(template.HTMLEscapeString(label))
	b.WriteString("</option>")
}

// maxWrittenOptions bounds the workspaces whose options are kept written.
const maxWrittenOptions = 256

// writtenOptions keeps the filters' options as written for each
// workspace's choices with nothing selected, as most pages have them,
// under the key of the read they were written from: a workspace's
// choices change only with their key, and a page with the same key
// takes its options as they are instead of writing a thousand options
// again.
type writtenOptions struct {
	mu          sync.Mutex
	byWorkspace map[string]filterOptions
}

// filterOptions are the user and resource filters' options written from
// the choices of one key.
type filterOptions struct {
	key              string
	users, resources template.HTML
}

// options returns the options of the workspace's choices, those of form
// marked selected: as kept for the choices' key when nothing is selected,
// written anew otherwise.
func (w *writtenOptions) options(workspace string, choices domain.FilterChoices, form filterForm) filterOptions {
	if choices.Key == "" || form.User != "" || form.Resource != "" {
		return filterOptions{users: userOptions(choices.Users, form.User), resources: resourceOptions(choices, form.Resource)}
	}
	w.mu.Lock()
	kept, ok := w.byWorkspace[workspace]
	w.mu.Unlock()
	if ok && kept.key == choices.Key {
		return kept
	}
	o := filterOptions{key: choices.Key, users: userOptions(choices.Users, ""), resources: resourceOptions(choices, "")}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byWorkspace == nil || len(w.byWorkspace) >= maxWrittenOptions {
		w.byWorkspace = map[string]filterOptions{}
	}
	w.byWorkspace[workspace] = o
	return o
}

// subject is what a history is about, as its page heads it.
type subject struct {
	Kind, Name, Detail, Tab string
	// Inactive says the user is deactivated.
	Inactive bool
}

// queryError is a search the search syntax cannot read, split at the
// character where it goes wrong.
type queryError struct {
	Message           string
	Position          int
	Before, At, After string
}

// readQueryError returns where the search text q goes wrong, or nil when it
// reads.
func readQueryError(q string) *queryError {
	_, err := query.Parse(q)
	var e *query.Error
	if !errors.As(err, &e) {
		return nil
	}
	qe := &queryError{Message: e.Message, Position: e.Pos, Before: q}
	runes := []rune(q)
	if e.Pos >= 1 && e.Pos <= len(runes) && utf8.ValidString(q) {
		qe.Before, qe.At, qe.After = string(runes[:e.Pos-1]), string(runes[e.Pos-1]), string(runes[e.Pos:])
	}
	return qe
}

// listing is one kind of activity listing: what it narrows the filter to
// and how its page is headed.
type listing struct {
	page, title, section, path, exportPath string
	filters, reports                       bool
	narrow                                 func(*searchapi.EventFilter)
	subject                                *subject
	notice                                 string
	// recorded names the page when its reading is recorded as a view of
	// the log (the workspace's Activity Log).
	recorded string
}

// list shows one page of a listing, or, for htmx asking for the next page,
// only its rows.
//
// The work of a page is done side by side: the search (with its facets in
// the same OpenSearch request) beside the one read of the filters'
// choices, whose members also name the user facet; the recording of a
// view of the log beside the rendering, the page sent only once the view
// is recorded.
func (c *Console) list(ctx *fiber.Ctx, l listing) error {
	v := &listView{
		view: c.baseView(ctx, l.title), Heading: l.title, Subject: l.subject, Path: l.path,
		Form: readForm(ctx), Filters: l.filters, ExportPath: l.exportPath,
		Categories: categories, Dates: dates, Formats: formats,
	}
	v.Section, v.Notice = l.section, l.notice
	if l.reports {
		v.Reports = reportTypes
	}
	p := v.Principal
	uctx := ctx.UserContext()
	filter := searchapi.EventFilter{Cursor: ctx.Query("cursor")}
	rows := partial(ctx) && filter.Cursor != ""
	// The facet counts cost the search an aggregation over every matching
	// entry: the page comes with its entries first, and the counts follow
	// in a request of their own (facets=1), as a fragment for htmx or, for
	// a browser without script, in the whole page.
	askFacets := l.filters && filter.Cursor == "" && ctx.Query("facets") == "1"
	facetsOnly := askFacets && partial(ctx)
	filter.Facets = askFacets
	if facetsOnly {
		filter.Limit = 1
	}
	var choices *choiceRead
	if l.filters && !rows {
		choices = c.readChoices(uctx, p, v.Form, !facetsOnly, filter.Facets)
		if filter.Facets {
			filter.FacetNames = choices
		}
	}
	status := fiber.StatusOK
	err := v.Form.apply(&filter, c, v.view)
	if err == nil && v.Form.Q != "" {
		if v.QueryError = readQueryError(v.Form.Q); v.QueryError != nil {
			err = activity.Errorf(activity.EINVALID, "q", "%s", v.QueryError.Message)
		}
	}
	if l.narrow != nil {
		l.narrow(&filter)
	}
	var page searchapi.EventPage
	if err == nil {
		page, err = c.svc.Finder.FindEvents(uctx, p, filter)
	}
	var recorded <-chan error
	if err == nil && l.recorded != "" && c.svc.LogViews != nil && !facetsOnly {
		recorded, err = c.recordView(uctx, p, l.recorded, filter, v.Form.values())
	}
	switch {
	case err == nil:
	case activity.ErrorCode(err) == activity.EINVALID:
		status = fiber.StatusBadRequest
		v.Error, v.ErrorField = activity.ErrorMessage(err), activity.ErrorField(err)
	default:
		if choices != nil {
			<-choices.ready
		}
		return err
	}
	v.Entries, v.Total, v.Facets = page.Entries, page.Total, page.Facets
	if page.NextCursor != "" {
		q := v.Form.values()
		q.Set("cursor", page.NextCursor)
		v.More = l.path + "?" + q.Encode()
	}
	if l.filters && filter.Cursor == "" && !askFacets && err == nil {
		q := v.Form.values()
		q.Set("facets", "1")
		v.FacetsURL = l.path + "?" + q.Encode()
	}
	switch {
	case facetsOnly:
		if choices != nil {
			<-choices.ready
		}
		err = c.renderFragment(ctx.Status(status), l.page, "facets", v)
	case rows:
		err = c.renderFragment(ctx.Status(status), l.page, "rows", v)
	default:
		if l.filters && err == nil && filter.Cursor == "" {
			v.LiveURL, v.LiveNote = liveURL(v.Form, filter)
		}
		if choices != nil {
			<-choices.ready
			v.UserOptions, v.ResourceOptions = choices.userOptions, choices.resourceOptions
		}
		err = c.render(ctx.Status(status), l.page, v)
	}
	if recorded != nil {
		if rerr := <-recorded; rerr != nil {
			// The page is not sent unless its reading is recorded.
			ctx.Response().ResetBody()
			return rerr
		}
	}
	return err
}

// liveURL is the live activity stream that shows new entries passing the
// listing's filters, or a note saying why there is none: the stream takes
// the log's filters of who, what and which resource, and not a search or a
// period, which have no meaning for entries yet to come.
func liveURL(form filterForm, f searchapi.EventFilter) (string, string) {
	if form.Q != "" || form.Date != "" {
		return "", "Live mode follows the user, action type and resource filters: clear the search and the date to go live."
	}
	q := url.Values{}
	for _, u := range f.Users {
		q.Add("user", u)
	}
	if f.Actor != "" {
		q.Add("user", f.Actor)
	}
	for _, kv := range []struct {
		key  string
		vals []string
	}{{"category", f.Categories}, {"action", f.Actions}, {"resource", f.Resources}, {"ip", f.IPs}} {
		for _, v := range kv.vals {
			q.Add(kv.key, v)
		}
	}
	if f.Outcome != "" {
		q.Set("outcome", f.Outcome)
	}
	u := "/api/v1/activity/stream"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, ""
}

// maxChoices bounds the assets and licenses the resource filter offers by
// name.
const maxChoices = 200

// choiceRead is the read of the users, assets and licenses a listing's
// filters offer, and the writing of their options, under way beside the
// search. It names the user facet's users from the members it read, once
// it has them.
type choiceRead struct {
	ready chan struct{}
	// userOptions and resourceOptions are the filters' options; empty
	// when the read failed, the filters then offering no names, or when
	// they were not asked for.
	userOptions, resourceOptions template.HTML
	// users are the members by id, when asked for.
	users map[string]domain.Choice
}

// readChoices starts reading the choices of p's filters and, when options
// is set, writing their options, those of form marked selected; when
// names is set, it keeps the members by id to name the user facet.
func (c *Console) readChoices(ctx context.Context, p activity.Principal, form filterForm, options, names bool) *choiceRead {
	r := &choiceRead{ready: make(chan struct{})}
	go func() {
		defer close(r.ready)
		got, err := c.svc.Choices.ListChoices(ctx, p, maxChoices)
		if err != nil {
			if activity.ErrorCode(err) == activity.EINTERNAL {
				c.log.WithError(err).Warn("The filters' choices could not be read.")
			}
			return
		}
		if options {
			o := c.options.options(p.WorkspaceID, got, form)
			r.userOptions, r.resourceOptions = o.users, o.resources
		}
		if names {
			r.users = make(map[string]domain.Choice, len(got.Users))
			for _, u := range got.Users {
				r.users[u.ID] = u
			}
		}
	}()
	return r
}

// UserName names a member as the filters offer them, once they are read.
func (r *choiceRead) UserName(id string) (string, string, bool) {
	<-r.ready
	u, ok := r.users[id]
	return u.Name, u.Email, ok
}

// activityLog is Settings › Activity Log, the workspace's feed, for the
// roles that see the whole workspace; the others are told so, and the
// refusal is recorded.
func (c *Console) activityLog(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if !domain.Can(p.Role, domain.ViewWorkspaceLog) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may not see the whole workspace's activity; My activity shows your own", p.Role)
	}
	return c.list(ctx, listing{
		page: "log", title: "Activity Log", section: "log", path: "/settings/activity-log",
		exportPath: "/settings/activity-log/export", filters: true, reports: true,
		recorded: "console /settings/activity-log",
	})
}

// myActivity is the caller's own actions, for every role.
func (c *Console) myActivity(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	return c.list(ctx, listing{
		page: "log", title: "My activity", section: "me", path: "/me/activity", exportPath: "/me/activity/export",
		filters: true, narrow: func(f *searchapi.EventFilter) { f.Actor = p.UserID },
	})
}

// exportLog sends the browser to the activity log's export with the
// form's filters, format and period.
func (c *Console) exportLog(ctx *fiber.Ctx) error {
	return c.export(ctx, "/api/v1/activity/export")
}

// exportMine sends the browser to the export of the caller's own actions.
func (c *Console) exportMine(ctx *fiber.Ctx) error {
	return c.export(ctx, "/api/v1/me/activity/export")
}

// export redirects to the API's export route with the form's values, the
// date preset as the API reads it; the API checks the role, the filters and
// records the export.
func (c *Console) export(ctx *fiber.Ctx, route string) error {
	form := readForm(ctx)
	format := ctx.Query("format", "csv")
	switch format {
	case "csv", "json", "ndjson", "pdf":
	default:
		return activity.Errorf(activity.EINVALID, "format", "format must be csv, json, ndjson or pdf, not %q", format)
	}
	var filter searchapi.EventFilter
	if err := form.apply(&filter, c, c.baseView(ctx, "")); err != nil {
		return err
	}
	q := url.Values{"format": {format}}
	for _, kv := range [][2]string{{"q", filter.Query}, {"range", filter.Range}, {"from", filter.From}, {"to", filter.To}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	for k, vals := range map[string][]string{"user": filter.Users, "category": filter.Categories, "action": filter.Actions, "resource": filter.Resources} {
		if len(vals) > 0 {
			q.Set(k, strings.Join(vals, ","))
		}
	}
	return ctx.Redirect(route+"?"+q.Encode(), fiber.StatusSeeOther)
}

// entryView is one entry in full.
type entryView struct {
	view
	Entry searchapi.EntryDetail
}

// entry shows one entry in full: as a page of its own, or, for htmx, as
// the detail that opens in place in a listing.
func (c *Console) entry(ctx *fiber.Ctx) error {
	id := ctx.Params("id")
	if !searchapi.IsID(id) {
		return activity.Errorf(activity.ENOTFOUND, "id", "no activity entry %q", id)
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	d, err := c.svc.Entries.FindEntry(ctx.UserContext(), p, strings.ToLower(id))
	if err != nil {
		return err
	}
	v := &entryView{view: c.baseView(ctx, d.Summary), Entry: d}
	if partial(ctx) {
		return c.renderFragment(ctx, "entry", "detail", v)
	}
	return c.render(ctx, "entry", v)
}

// recordView starts recording p's reading of the Activity Log page where
// with filter, read from the form values, once per session and filter
// within the debounce period (as the API records GET /api/v1/activity),
// and returns where the recording's outcome will be sent. It returns the
// filter's EINVALID at once, recording nothing.
func (c *Console) recordView(ctx context.Context, p activity.Principal, where string, filter searchapi.EventFilter, values url.Values) (<-chan error, error) {
	if err := filter.Validate(time.Now(), searchapi.Zone(p.TimeZone)); err != nil {
		return nil, err
	}
	params := map[string]string{}
	for k := range values {
		params[k] = values.Get(k)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.svc.LogViews.RecordLogView(ctx, p, domain.LogView{Where: where, Parameters: params, Fingerprint: filter.Fingerprint()})
		done <- err
	}()
	return done, nil
}
