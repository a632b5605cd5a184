package dashboards

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// Settings › Activity Analytics shows one type of analysis over one period,
// both in the URL, as charts drawn by the page's own script from the JSON
// of /settings/analytics/data, each chart with the same figures in a table
// beside it, so that the page reads without script.

// analysisTypes are the analyses the page offers, in its order.
var analysisTypes = []option{
	{"activity", "Activity heatmap"}, {"engagement", "User engagement"}, {"usage", "Feature usage"},
	{"trends", "Trends"}, {"insights", "Operational insights"},
}

// analysisRanges are the periods the page offers as links; from and to
// give any other.
var analysisRanges = []option{{"today", "Today"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"}}

// chart is one chart of the page and its table: a label per row, one
// column per series.
type chart struct {
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Kind   string        `json:"kind"` // bar, line or stacked (bars)
	Unit   string        `json:"unit"`
	Key    string        `json:"-"` // what the table's rows are
	Labels []string      `json:"labels"`
	Series []chartSeries `json:"series"`
}

// Long reports whether the chart's table is too long to show open under
// it: it is then folded, one click away.
func (c chart) Long() bool { return len(c.Labels) > 31 }

// chartSeries is one series of a chart.
type chartSeries struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// table is a table of figures with no chart.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
	Note    string
}

// heatCell is one hour of one day of the heatmap, with its shade (0–4).
type heatCell struct {
	Count int64
	Shade int
}

// analyticsView is the Activity Analytics page.
type analyticsView struct {
	view
	Type    string
	Range   string
	From    string
	To      string
	Period  searchapi.Period
	Types   []link
	Ranges  []link
	DataURL string
	Charts  []chart
	Tables  []table
	// Heatmap holds 7 rows (Monday first) of 24 hours, for the activity
	// type; HeatTotal their sum.
	Heatmap   [][]heatCell
	HeatTotal int64
	Hours     []int
	Days      []string
}

// link is one choice shown as a link to the page with it.
type link struct {
	Label   string
	URL     string
	Current bool
}

// analyticsQuery is the page's query: the type and the period.
type analyticsQuery struct {
	Type  string
	Range string
	From  string
	To    string
}

// readAnalyticsQuery reads and checks the page's query. It returns
// EINVALID naming an unknown, repeated or bad parameter.
func readAnalyticsQuery(ctx *fiber.Ctx) (analyticsQuery, error) {
	q := analyticsQuery{Type: "activity"}
	var bad error
	seen := map[string]bool{}
	ctx.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if bad != nil {
			return
		}
		if seen[key] {
			bad = activity.Errorf(activity.EINVALID, key, "%s is given twice", key)
			return
		}
		seen[key] = true
		switch key {
		case "type":
			q.Type = string(v)
		case "range":
			q.Range = string(v)
		case "from":
			q.From = string(v)
		case "to":
			q.To = string(v)
		default:
			bad = activity.Errorf(activity.EINVALID, key, "unknown parameter %s", key)
		}
	})
	if bad != nil {
		return q, bad
	}
	known := false
	for _, t := range analysisTypes {
		known = known || t.Value == q.Type
	}
	if !known {
		return q, activity.Errorf(activity.EINVALID, "type", "type must be activity, engagement, usage, trends or insights")
	}
	return q, nil
}

// url returns the page's URL for q, under path.
func (q analyticsQuery) url(path string) string {
	v := url.Values{}
	v.Set("type", q.Type)
	for _, kv := range [][2]string{{"range", q.Range}, {"from", q.From}, {"to", q.To}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return path + "?" + v.Encode()
}

// analytics shows Settings › Activity Analytics.
func (c *Console) analytics(ctx *fiber.Ctx) error {
	v, err := c.analyticsOf(ctx)
	if err != nil {
		return err
	}
	return c.render(ctx, "analytics", v)
}

// analyticsData answers the page's charts as JSON, for its script.
func (c *Console) analyticsData(ctx *fiber.Ctx) error {
	v, err := c.analyticsOf(ctx)
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"type": v.Type, "period": v.Period, "charts": v.Charts})
}

// analyticsOf computes the page for the request's type and period, within
// the caller's scope, through the same analyses as the API.
func (c *Console) analyticsOf(ctx *fiber.Ctx) (*analyticsView, error) {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if err := domain.Require(p, domain.ViewOwnActivity); err != nil {
		return nil, err
	}
	q, err := readAnalyticsQuery(ctx)
	if err != nil {
		return nil, err
	}
	period, err := searchapi.ResolvePeriod(searchapi.PeriodQuery{Range: q.Range, From: q.From, To: q.To}, c.now(), searchapi.Zone(p.TimeZone))
	if err != nil {
		return nil, err
	}
	v := &analyticsView{view: c.baseView(ctx, "Activity Analytics"), Type: q.Type, Range: q.Range, From: q.From, To: q.To, Period: period}
	v.Section = "analytics"
	v.DataURL = q.url("/settings/analytics/data")
	for _, t := range analysisTypes {
		o := q
		o.Type = t.Value
		v.Types = append(v.Types, link{Label: t.Label, URL: o.url("/settings/analytics"), Current: t.Value == q.Type})
	}
	for _, r := range analysisRanges {
		o := analyticsQuery{Type: q.Type, Range: r.Value}
		current := q.Range == r.Value || (q.Range == "" && q.From == "" && r.Value == searchapi.DefaultRange)
		v.Ranges = append(v.Ranges, link{Label: r.Label, URL: o.url("/settings/analytics"), Current: current})
	}
	f := searchapi.AnalyticsFilter{Period: period}
	uctx := ctx.UserContext()
	a := c.svc.Analyst
	switch q.Type {
	case "activity":
		h, err := a.Heatmap(uctx, p, f)
		if err != nil {
			return nil, err
		}
		pt, err := a.PeakTimes(uctx, p, f)
		if err != nil {
			return nil, err
		}
		v.heatmap(h)
		v.peaks(pt)
	case "engagement":
		f.Limit = searchapi.DefaultTopLimit
		top, err := a.TopUsers(uctx, p, f)
		if err != nil {
			return nil, err
		}
		en, err := a.Engagement(uctx, p, f)
		if err != nil {
			return nil, err
		}
		ts, err := a.TimeSpent(uctx, p, f)
		if err != nil {
			return nil, err
		}
		lg, err := a.Logins(uctx, p, f)
		if err != nil {
			return nil, err
		}
		v.engagement(top, en, ts, lg)
	case "usage":
		u, err := a.Usage(uctx, p, f)
		if err != nil {
			return nil, err
		}
		v.usage(u)
	case "trends":
		f.ByCategory = true
		t, err := a.Timeline(uctx, p, f)
		if err != nil {
			return nil, err
		}
		v.trends(t)
	case "insights":
		f.Limit = searchapi.DefaultTopLimit
		w, err := a.Workflows(uctx, p, f)
		if err != nil {
			return nil, err
		}
		tt, err := a.TaskTimes(uctx, p, f)
		if err != nil {
			return nil, err
		}
		as, err := a.Assignments(uctx, p, f)
		if err != nil {
			return nil, err
		}
		v.insights(w, tt)
		v.assignments(as)
		if domain.Can(p.Role, domain.ManageAlerts) {
			ar, err := c.svc.AlertTimes.AlertResponseTimes(uctx, p, period.From, period.To)
			if err != nil {
				return nil, err
			}
			v.alertResponses(ar.Severities, ar.Whole)
		}
	}
	return v, nil
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

func (v *analyticsView) heatmap(h searchapi.Heatmap) {
	var most int64
	for d := range h.Counts {
		for _, n := range h.Counts[d] {
			most = max(most, n)
		}
	}
	v.Days, v.HeatTotal = weekdays, h.Total
	for hr := range 24 {
		v.Hours = append(v.Hours, hr)
	}
	for d := range h.Counts {
		row := make([]heatCell, 24)
		for hr, n := range h.Counts[d] {
			row[hr] = heatCell{Count: n}
			if n > 0 && most > 0 {
				row[hr].Shade = 1 + int(3*n/most)
			}
		}
		v.Heatmap = append(v.Heatmap, row)
	}
}

func (v *analyticsView) peaks(pt searchapi.PeakTimes) {
	hours := chart{ID: "peak-hours", Key: "Hour", Title: "Actions by hour of day", Kind: "bar", Unit: "actions", Series: []chartSeries{{Name: "Actions", Values: make([]float64, 24)}}}
	for hr := range 24 {
		hours.Labels = append(hours.Labels, fmt.Sprintf("%02d:00", hr))
	}
	for _, h := range pt.Hours {
		hours.Series[0].Values[h.Hour] = float64(h.Count)
	}
	days := chart{ID: "peak-days", Key: "Day", Title: "Actions by day of week", Kind: "bar", Unit: "actions", Labels: weekdays, Series: []chartSeries{{Name: "Actions", Values: make([]float64, 7)}}}
	for _, d := range pt.Days {
		days.Series[0].Values[d.Day-1] = float64(d.Count)
	}
	v.Charts = append(v.Charts, hours, days)
	busiest := table{Caption: "Peak times, busiest first", Head: []string{"Rank", "Hour of day", "Actions"}}
	for i, h := range pt.Hours[:min(5, len(pt.Hours))] {
		busiest.Rows = append(busiest.Rows, []string{strconv.Itoa(i + 1), fmt.Sprintf("%02d:00–%02d:59", h.Hour, h.Hour), strconv.FormatInt(h.Count, 10)})
	}
	v.Tables = append(v.Tables, busiest)
}

func (v *analyticsView) engagement(top searchapi.TopUsers, en searchapi.Engagement, ts searchapi.TimeSpent, lg searchapi.Logins) {
	users := chart{ID: "top-users", Key: "User", Title: "Most active users", Kind: "bar", Unit: "actions", Series: []chartSeries{{Name: "Actions"}}}
	for _, u := range top.Users {
		users.Labels = append(users.Labels, nameOf(u.Name, u.Email, u.ID))
		users.Series[0].Values = append(users.Series[0].Values, float64(u.Count))
	}
	logins := chart{ID: "logins", Key: "Period", Title: "Logins over time", Kind: "line", Unit: "logins", Series: []chartSeries{{Name: "Logins"}, {Name: "Failed logins"}}}
	for _, b := range lg.Buckets {
		logins.Labels = append(logins.Labels, bucketLabel(b.Start, lg.Interval))
		logins.Series[0].Values = append(logins.Series[0].Values, float64(b.Logins))
		logins.Series[1].Values = append(logins.Series[1].Values, float64(b.Failed))
	}
	spent := chart{ID: "time-spent", Key: "User", Title: "Time spent, in minutes", Kind: "bar", Unit: "minutes", Series: []chartSeries{{Name: "Minutes"}}}
	for _, u := range ts.Users[:min(searchapi.DefaultTopLimit, len(ts.Users))] {
		spent.Labels = append(spent.Labels, nameOf(u.Name, u.Email, u.ID))
		spent.Series[0].Values = append(spent.Series[0].Values, u.TotalMinutes)
	}
	v.Charts = append(v.Charts, users, logins, spent)
	freq := table{Caption: "Login frequency", Head: []string{"User", "Logins", "Active days", "Active weeks", "Logins per active week"},
		Note: fmt.Sprintf("%d active users; %d logins; %.4g logins per active week in all.", en.ActiveUsers, en.Logins, en.LoginsPerActiveWeek)}
	for _, u := range en.Users[:min(searchapi.DefaultTopLimit, len(en.Users))] {
		freq.Rows = append(freq.Rows, []string{nameOf(u.Name, u.Email, u.ID), strconv.FormatInt(u.Logins, 10), strconv.FormatInt(u.ActiveDays, 10), strconv.FormatInt(u.ActiveWeeks, 10), fmt.Sprintf("%.4g", u.LoginsPerActiveWeek)})
	}
	v.Tables = append(v.Tables, freq)
}

func (v *analyticsView) usage(u searchapi.Usage) {
	cats := chart{ID: "usage-categories", Key: "Category", Title: "Actions by category", Kind: "bar", Unit: "actions", Series: []chartSeries{{Name: "Actions"}}}
	for _, c := range u.Categories {
		cats.Labels = append(cats.Labels, c.Category)
		cats.Series[0].Values = append(cats.Series[0].Values, float64(c.Count))
	}
	acts := chart{ID: "usage-actions", Key: "Action", Title: "Actions by type", Kind: "bar", Unit: "actions", Series: []chartSeries{{Name: "Actions"}}}
	for _, a := range u.Actions {
		acts.Labels = append(acts.Labels, a.Action)
		acts.Series[0].Values = append(acts.Series[0].Values, float64(a.Count))
	}
	v.Charts = append(v.Charts, cats, acts)
}

func (v *analyticsView) trends(t searchapi.Timeline) {
	c := chart{ID: "trends", Key: "Period", Title: "Actions over time by category", Kind: "stacked", Unit: "actions"}
	for _, cat := range searchapi.Categories {
		c.Series = append(c.Series, chartSeries{Name: cat})
	}
	for _, b := range t.Buckets {
		c.Labels = append(c.Labels, bucketLabel(b.Start, t.Interval))
		for i, cat := range searchapi.Categories {
			c.Series[i].Values = append(c.Series[i].Values, float64(b.Categories[cat]))
		}
	}
	v.Charts = append(v.Charts, c)
}

func (v *analyticsView) insights(w searchapi.Workflows, tt searchapi.TaskTimes) {
	pairs := chart{ID: "workflows", Key: "Actions", Title: "Common workflows: two actions in a row", Kind: "bar", Unit: "times", Series: []chartSeries{{Name: "Times"}}}
	for _, s := range w.Pairs {
		pairs.Labels = append(pairs.Labels, strings.Join(s.Actions, " → "))
		pairs.Series[0].Values = append(pairs.Series[0].Values, float64(s.Count))
	}
	tasks := chart{ID: "task-times", Key: "Task", Title: "Time to complete tasks, in minutes", Kind: "bar", Unit: "minutes", Series: []chartSeries{{Name: "Median"}, {Name: "90th percentile"}}}
	for _, t := range tt.Tasks {
		tasks.Labels = append(tasks.Labels, t.Start+" → "+t.End)
		tasks.Series[0].Values = append(tasks.Series[0].Values, t.MedianMinutes)
		tasks.Series[1].Values = append(tasks.Series[1].Values, t.P90Minutes)
	}
	v.Charts = append(v.Charts, pairs, tasks)
	triples := table{Caption: "Common workflows: three actions in a row", Head: []string{"Actions", "Times"},
		Note: fmt.Sprintf("%d sessions, %d actions counted.", w.Sessions, w.Actions)}
	for _, s := range w.Triples {
		triples.Rows = append(triples.Rows, []string{strings.Join(s.Actions, " → "), strconv.FormatInt(s.Count, 10)})
	}
	counts := table{Caption: "Tasks completed and waiting", Head: []string{"Task", "Completed", "Still waiting"}}
	for _, t := range tt.Tasks {
		counts.Rows = append(counts.Rows, []string{t.Start + " → " + t.End, strconv.FormatInt(t.Completed, 10), strconv.FormatInt(t.Open, 10)})
	}
	if len(tt.Bottlenecks) > 0 {
		counts.Note = "Work waits longest at: " + strings.Join(tt.Bottlenecks, ", ") + "."
	}
	if r := tt.Renewals; r.Count > 0 {
		counts.Rows = append(counts.Rows, []string{"license expiring → license.renewed", strconv.FormatInt(r.Count, 10), "—"})
		counts.Note += fmt.Sprintf(" Licenses were renewed a median of %.1f days before they expired; %d after they had lapsed.", r.MedianDays, r.Lapsed)
	}
	v.Tables = append(v.Tables, triples, counts)
}

func (v *analyticsView) assignments(as searchapi.Assignments) {
	days := chart{ID: "assignment-days", Key: "Day", Title: "Assignments by day of week", Kind: "bar", Unit: "assignments", Labels: weekdays, Series: []chartSeries{{Name: "Assignments"}}}
	for _, n := range as.Days {
		days.Series[0].Values = append(days.Series[0].Values, float64(n))
	}
	if as.Total == 0 {
		days.Labels = nil
	}
	v.Charts = append(v.Charts, days)
	people := table{Caption: "Assignment patterns", Head: []string{"Who", "Assigned", "Was assigned"},
		Note: fmt.Sprintf("%d assignments (%d assets taken from a previous assignee).", as.Total, as.Reassignments)}
	assigned := map[string]int64{}
	for _, p := range as.Assignees {
		assigned[p.ID] = p.Count
	}
	seen := map[string]bool{}
	for _, p := range as.Assigners {
		seen[p.ID] = true
		people.Rows = append(people.Rows, []string{nameOf(p.Name, p.Email, p.ID), strconv.FormatInt(p.Count, 10), strconv.FormatInt(assigned[p.ID], 10)})
	}
	for _, p := range as.Assignees {
		if !seen[p.ID] {
			people.Rows = append(people.Rows, []string{nameOf(p.Name, p.Email, p.ID), "0", strconv.FormatInt(p.Count, 10)})
		}
	}
	v.Tables = append(v.Tables, people)
}

func (v *analyticsView) alertResponses(bySeverity []alertResponses, whole alertResponses) {
	t := table{Caption: "Alert response times", Head: []string{"Severity", "Raised", "Median to acknowledge", "Median to resolve", "90th percentile to resolve", "Still open"}}
	row := func(name string, r alertResponses) []string {
		return []string{name, strconv.FormatInt(r.Raised, 10), wait(r.ToAcknowledge.MedianMS, r.ToAcknowledge.Count), wait(r.ToResolve.MedianMS, r.ToResolve.Count), wait(r.ToResolve.P90MS, r.ToResolve.Count), strconv.FormatInt(r.Open, 10)}
	}
	for _, r := range bySeverity {
		t.Rows = append(t.Rows, row(r.Severity, r))
	}
	t.Rows = append(t.Rows, row("all", whole))
	v.Tables = append(v.Tables, t)
}

type alertResponses = alert.Responses

// wait writes a wait of ms milliseconds for people, or a dash when no
// alert waited.
func wait(ms, count int64) string {
	if count == 0 {
		return "—"
	}
	return (time.Duration(ms) * time.Millisecond).Round(time.Second).String()
}

func nameOf(name, email, id string) string {
	switch {
	case name != "":
		return name
	case email != "":
		return email
	}
	return id
}

// bucketLabel names a bucket of a series by its start, as wide as its
// interval.
func bucketLabel(t time.Time, iv searchapi.Interval) string {
	switch iv {
	case searchapi.IntervalHour:
		return t.Format("Mon 2 Jan 15:04")
	case searchapi.IntervalMonth:
		return t.Format("Jan 2006")
	}
	return t.Format("Mon 2 Jan 2006")
}
