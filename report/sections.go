package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fluxera/activity/searchapi"
)

// A report is rendered from its sections, the same in every format: each
// section's figures, its tables and, for the PDF, its charts.

// section is one part of a report as it is rendered.
type section struct {
	Title   string
	Figures []figure
	// Note says what the figures leave out, when they do.
	Note    string
	Bars    *barChart
	Heatmap *heatmap
	Tables  []table
}

// figure is one total of a section.
type figure struct {
	Label, Value string
}

// table is a titled table of a section; Numeric marks the columns that
// hold numbers, right-aligned in the PDF.
type table struct {
	Title   string
	Columns []string
	Numeric []bool
	// Widths are the columns' shares of the page's width.
	Widths []float64
	Rows   [][]string
	// Empty says why the table has no rows.
	Empty string
}

// barChart is a horizontal bar chart of counts.
type barChart struct {
	Title string
	Bars  []bar
}

type bar struct {
	Label string
	Value int64
}

// heatmap is a day-of-week by hour-of-day chart of counts.
type heatmap struct {
	Title  string
	Counts [7][24]int64
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

func decimal(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// moment renders a time in the report's time zone.
func moment(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// actionsText lists per-action counts, most first: "asset.updated 2,
// asset.created 1".
func actionsText(actions map[string]int64) string {
	keys := make([]string, 0, len(actions))
	for k := range actions {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if actions[a] != actions[b] {
			if actions[a] > actions[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, actions[k])
	}
	return strings.Join(parts, ", ")
}

// sections returns the sections of r in the order the product lists them.
func sections(r Report) []section {
	loc := location(r)
	res := r.Result
	switch {
	case res.User != nil:
		return userSections(res.User, loc)
	case res.Asset != nil:
		return assetSections(res.Asset, loc)
	case res.License != nil:
		return licenseSections(res.License, loc)
	case res.Security != nil:
		return securitySections(res.Security, res.Suspicious, loc)
	case res.Custom != nil:
		return customSections(res.Custom, res.Total, loc)
	}
	return nil
}

// location is the time zone of r's period.
func location(r Report) *time.Location {
	if r.Period.Location != nil {
		return r.Period.Location
	}
	return searchapi.Zone(r.Period.TimeZone)
}

const noActions = "No actions in the period."

func userSections(u *searchapi.UserReport, loc *time.Location) []section {
	apu := section{Title: "Actions per user", Figures: []figure{
		{"Actions by users", count(u.ActionsPerUser.Actions)},
		{"Users", count(u.ActionsPerUser.Users)},
		{"Actions per user", decimal(u.ActionsPerUser.Average)},
	}}
	per := table{Title: "Actions per user by category", Empty: noActions,
		Columns: append([]string{"User", "Email", "Actions"}, searchapi.Categories...),
		Numeric: []bool{false, false, true, true, true, true, true, true},
		Widths:  []float64{3, 4, 1.3, 1.2, 1.2, 1.2, 1.2, 1.2}}
	for _, e := range u.ActionsPerUser.Entries {
		row := []string{e.Label(), e.Email, count(e.Actions)}
		for _, c := range searchapi.Categories {
			row = append(row, count(e.Categories[c]))
		}
		per.Rows = append(per.Rows, row)
	}
	apu.Tables = []table{per}
	if int64(len(u.ActionsPerUser.Entries)) < u.ActionsPerUser.Users {
		apu.Note = fmt.Sprintf("The %d users with the most actions are listed.", len(u.ActionsPerUser.Entries))
	}

	most := section{Title: "Most active users", Bars: &barChart{Title: "Actions"}}
	mt := table{Title: "Most active users", Empty: noActions,
		Columns: []string{"User", "Actions", "Share %", "Active days", "Last action"},
		Numeric: []bool{false, true, true, true, false}, Widths: []float64{4, 1.5, 1.5, 1.5, 2.5}}
	for _, e := range u.MostActiveUsers.Entries {
		most.Bars.Bars = append(most.Bars.Bars, bar{e.Label(), e.Actions})
		mt.Rows = append(mt.Rows, []string{e.Label(), count(e.Actions), decimal(e.Share), count(e.ActiveDays), moment(e.LastAction, loc)})
	}
	most.Tables = []table{mt}

	lf := u.LoginFrequency
	logins := section{Title: "Login frequency", Figures: []figure{
		{"Logins", count(lf.Logins)}, {"Users who logged in", count(lf.Users)}, {"Days in the period", strconv.Itoa(lf.Days)},
		{"Logins per day", decimal(lf.PerDay)}, {"Logins per week", decimal(lf.PerWeek)},
	}}
	lt := table{Title: "Logins per user", Empty: "No logins in the period.",
		Columns: []string{"User", "Email", "Logins", "Days with logins", "Per day", "Per week"},
		Numeric: []bool{false, false, true, true, true, true}, Widths: []float64{3, 4, 1.3, 1.7, 1.3, 1.3}}
	for _, e := range lf.Entries {
		lt.Rows = append(lt.Rows, []string{e.Label(), e.Email, count(e.Logins), count(e.LoginDays), decimal(e.PerDay), decimal(e.PerWeek)})
	}
	logins.Tables = []table{lt}

	usage := section{Title: "Feature usage"}
	ct := table{Title: "Actions by category", Empty: noActions, Columns: []string{"Category", "Actions", "Users"},
		Numeric: []bool{false, true, true}, Widths: []float64{4, 2, 2}}
	for _, c := range u.FeatureUsage.Categories {
		ct.Rows = append(ct.Rows, []string{c.Category, count(c.Count), count(c.Users)})
	}
	at := table{Title: "Actions by action", Empty: noActions, Columns: []string{"Action", "Category", "Actions", "Users"},
		Numeric: []bool{false, false, true, true}, Widths: []float64{5, 2, 1.5, 1.5}}
	for _, a := range u.FeatureUsage.Actions {
		at.Rows = append(at.Rows, []string{a.Action, a.Category, count(a.Count), count(a.Users)})
	}
	usage.Tables = []table{ct, at}
	return []section{apu, most, logins, usage}
}

func assetSections(a *searchapi.AssetReport, loc *time.Location) []section {
	mm := section{Title: "Most modified assets", Figures: []figure{
		{"Changes", count(a.MostModified.Changes)}, {"Assets changed", count(a.MostModified.Assets)},
	}, Bars: &barChart{Title: "Changes"}}
	mt := table{Title: "Most modified assets", Empty: "No asset was changed in the period.",
		Columns: []string{"Asset", "Changes", "By action"}, Numeric: []bool{false, true, false}, Widths: []float64{3.5, 1.2, 5.5}}
	for _, e := range a.MostModified.Entries {
		mm.Bars.Bars = append(mm.Bars.Bars, bar{thingLabel(e.Thing), e.Changes})
		mt.Rows = append(mt.Rows, []string{thingLabel(e.Thing), count(e.Changes), actionsText(e.Actions)})
	}
	mm.Tables = []table{mt}

	as := section{Title: "Assignment frequency", Figures: []figure{
		{"Assignments", count(a.Assignments.Assigned)}, {"Taken back", count(a.Assignments.Unassigned)},
	}}
	at := table{Title: "Assignments per asset", Empty: "No asset was assigned or taken back in the period.",
		Columns: []string{"Asset", "Assigned", "Taken back"}, Numeric: []bool{false, true, true}, Widths: []float64{5, 1.5, 1.5}}
	for _, e := range a.Assignments.Entries {
		at.Rows = append(at.Rows, []string{thingLabel(e.Thing), count(e.Assigned), count(e.Unassigned)})
	}
	as.Tables = []table{at}

	sc := section{Title: "Status changes", Figures: []figure{{"Status changes", count(a.StatusChanges.Changes)}}}
	if !a.StatusChanges.Complete {
		sc.Note = fmt.Sprintf("The period holds more status changes than the %d newest counted here.", searchapi.MaxReportStatusChanges)
	}
	st := table{Title: "Status changes by status", Empty: "No asset changed its status in the period.",
		Columns: []string{"From", "To", "Changes"}, Numeric: []bool{false, false, true}, Widths: []float64{3, 3, 1.5}}
	for _, e := range a.StatusChanges.Entries {
		st.Rows = append(st.Rows, []string{e.From, e.To, count(e.Count)})
	}
	sc.Tables = []table{st}

	mh := section{Title: "Maintenance history", Figures: []figure{
		{"Scheduled", count(a.Maintenance.Scheduled)}, {"Completed", count(a.Maintenance.Completed)},
	}}
	if n := a.Maintenance.Scheduled + a.Maintenance.Completed; n > int64(len(a.Maintenance.Entries)) {
		mh.Note = fmt.Sprintf("The newest %d of %d are listed.", len(a.Maintenance.Entries), n)
	}
	ht := table{Title: "Maintenance", Empty: "No maintenance was scheduled or completed in the period.",
		Columns: []string{"When", "Asset", "What", "For", "Description or outcome", "By"},
		Numeric: []bool{false, false, false, false, false, false}, Widths: []float64{2.2, 2.5, 1.4, 1.6, 3, 2.2}}
	for _, e := range a.Maintenance.Entries {
		what, text := "scheduled", e.Description
		if e.Action == "asset.maintenance_completed" {
			what = "completed"
			if e.Outcome != "" {
				text = e.Outcome
			}
		}
		ht.Rows = append(ht.Rows, []string{moment(e.At, loc), thingLabel(e.Asset), what, e.ScheduledFor, text, e.By.Label()})
	}
	mh.Tables = []table{ht}
	return []section{mm, as, sc, mh}
}

func licenseSections(l *searchapi.LicenseReport, loc *time.Location) []section {
	ch := section{Title: "License changes", Figures: []figure{{"Changes", count(l.Changes.Changes)}}}
	byAction := table{Title: "Changes by action", Empty: "No license was changed in the period.",
		Columns: []string{"Action", "Changes"}, Numeric: []bool{false, true}, Widths: []float64{5, 1.5}}
	for _, a := range l.Changes.Actions {
		byAction.Rows = append(byAction.Rows, []string{a.Action, count(a.Count)})
	}
	byLicense := table{Title: "Licenses changed most", Empty: "No license was changed in the period.",
		Columns: []string{"License", "Changes", "By action"}, Numeric: []bool{false, true, false}, Widths: []float64{3.5, 1.2, 5.5}}
	for _, e := range l.Changes.Entries {
		byLicense.Rows = append(byLicense.Rows, []string{thingLabel(e.Thing), count(e.Changes), actionsText(e.Actions)})
	}
	ch.Tables = []table{byAction, byLicense}

	seats := section{Title: "Assignment patterns", Figures: []figure{
		{"Seats given", count(l.Assignments.Assigned)}, {"Seats taken back", count(l.Assignments.Unassigned)},
	}}
	st := table{Title: "Seats per license", Empty: "No seat was given or taken back in the period.",
		Columns: []string{"License", "Given", "Taken back", "Net"}, Numeric: []bool{false, true, true, true}, Widths: []float64{5, 1.5, 1.5, 1.5}}
	for _, e := range l.Assignments.Entries {
		st.Rows = append(st.Rows, []string{thingLabel(e.Thing), count(e.Assigned), count(e.Unassigned), count(e.Assigned - e.Unassigned)})
	}
	mt := table{Title: "Members given most seats", Empty: "No seat was given in the period.",
		Columns: []string{"Member", "Seats given"}, Numeric: []bool{false, true}, Widths: []float64{5, 1.5}}
	for _, e := range l.Assignments.Assignees {
		mt.Rows = append(mt.Rows, []string{thingLabel(e.Thing), count(e.Assigned)})
	}
	seats.Tables = []table{st, mt}

	keys := section{Title: "Key access log", Figures: []figure{
		{"Key views", count(l.KeyAccess.Views)}, {"People", count(l.KeyAccess.Viewers)}, {"Licenses", count(l.KeyAccess.Licenses)},
	}}
	if l.KeyAccess.Views > int64(len(l.KeyAccess.Entries)) {
		keys.Note = fmt.Sprintf("The newest %d of %d views are listed.", len(l.KeyAccess.Entries), l.KeyAccess.Views)
	}
	vt := table{Title: "Views per person", Empty: "No license key was viewed in the period.",
		Columns: []string{"Person", "Email", "Views"}, Numeric: []bool{false, false, true}, Widths: []float64{3, 4, 1.5}}
	for _, e := range l.KeyAccess.Top {
		vt.Rows = append(vt.Rows, []string{e.Label(), e.Email, count(e.Count)})
	}
	et := table{Title: "Key views", Empty: "No license key was viewed in the period.",
		Columns: []string{"When", "License", "Viewed by", "Email", "IP address"},
		Numeric: []bool{false, false, false, false, false}, Widths: []float64{2.2, 2.8, 2.5, 3.2, 2.3}}
	for _, e := range l.KeyAccess.Entries {
		et.Rows = append(et.Rows, []string{moment(e.At, loc), thingLabel(e.License), e.By.Label(), e.By.Email, e.IP})
	}
	keys.Tables = []table{vt, et}

	ren := section{Title: "Renewal activity", Figures: []figure{
		{"Renewals", count(l.Renewals.Renewals)}, {"Licenses renewed", count(l.Renewals.Licenses)},
	}}
	if l.Renewals.Renewals > int64(len(l.Renewals.Entries)) {
		ren.Note = fmt.Sprintf("The newest %d of %d renewals are listed.", len(l.Renewals.Entries), l.Renewals.Renewals)
	}
	rt := table{Title: "Renewals", Empty: "No license was renewed in the period.",
		Columns: []string{"When", "License", "Expired on", "Now expires on", "By"},
		Numeric: []bool{false, false, false, false, false}, Widths: []float64{2.2, 3, 2, 2, 2.5}}
	for _, e := range l.Renewals.Entries {
		rt.Rows = append(rt.Rows, []string{moment(e.At, loc), thingLabel(e.License), e.From, e.To, e.By.Label()})
	}
	ren.Tables = []table{rt}
	return []section{ch, seats, keys, ren}
}

func securitySections(s *searchapi.SecurityReport, sus *Suspicious, loc *time.Location) []section {
	la := s.LoginAttempts
	logins := section{Title: "Login attempts", Figures: []figure{
		{"Successful", count(la.Successful)}, {"Failed", count(la.Failed)},
	}, Heatmap: &heatmap{Title: "Successful logins by day of week and hour", Counts: la.Times}}
	dt := table{Title: "Login attempts by day", Empty: "No login attempts in the period.",
		Columns: []string{"Day", "Successful", "Failed"}, Numeric: []bool{false, true, true}, Widths: []float64{3, 2, 2}}
	for _, d := range la.Days {
		dt.Rows = append(dt.Rows, []string{d.Day, count(d.Successful), count(d.Failed)})
	}
	logins.Tables = []table{dt}

	fa := s.FailedAuth
	failed := section{Title: "Failed authentications", Figures: []figure{
		{"Failed logins", count(fa.Failed)}, {"Accounts", count(fa.Accounts)}, {"Addresses", count(fa.Addresses)},
	}, Bars: &barChart{Title: "Failed logins"}}
	act := table{Title: "Failed logins by account", Empty: "No failed logins in the period.",
		Columns: []string{"Account", "Email", "Failed", "Last"}, Numeric: []bool{false, false, true, false}, Widths: []float64{3, 4, 1.3, 2.5}}
	for _, e := range fa.ByAccount {
		failed.Bars.Bars = append(failed.Bars.Bars, bar{e.Label(), e.Failed})
		act.Rows = append(act.Rows, []string{e.Label(), e.Email, count(e.Failed), moment(e.Last, loc)})
	}
	ipt := table{Title: "Failed logins by address", Empty: "No failed logins in the period.",
		Columns: []string{"IP address", "Failed", "Accounts", "Last"}, Numeric: []bool{false, true, true, false}, Widths: []float64{4, 1.5, 1.5, 2.5}}
	for _, e := range fa.ByAddress {
		ipt.Rows = append(ipt.Rows, []string{e.IP, count(e.Failed), count(e.Accounts), moment(e.Last, loc)})
	}
	failed.Tables = []table{act, ipt}

	pc := s.PermissionChanges
	perms := section{Title: "Permission changes", Figures: []figure{
		{"Changes", count(pc.Changes)}, {"Role changes", count(pc.RoleChanges)},
		{"Activations", count(pc.Activations)}, {"Deactivations", count(pc.Deactivations)},
	}}
	if pc.Changes > int64(len(pc.Entries)) {
		perms.Note = fmt.Sprintf("The newest %d of %d changes are listed.", len(pc.Entries), pc.Changes)
	}
	pt := table{Title: "Permission changes", Empty: "No permission was changed in the period.",
		Columns: []string{"When", "Member", "Change", "By"}, Numeric: []bool{false, false, false, false}, Widths: []float64{2.2, 3, 3.5, 3}}
	for _, e := range pc.Entries {
		pt.Rows = append(pt.Rows, []string{moment(e.At, loc), thingLabel(e.User), permissionText(e), e.By.Label()})
	}
	perms.Tables = []table{pt}

	sec := []section{logins, failed, perms}
	if sus == nil {
		return sec
	}
	suspicious := section{Title: "Suspicious activity"}
	if !sus.Visible {
		suspicious.Note = "Alerts are shown to owners and admins only."
		return append(sec, suspicious)
	}
	suspicious.Figures = []figure{{"Alerts raised", count(sus.Alerts)}}
	for _, st := range []string{"open", "acknowledged", "resolved"} {
		suspicious.Figures = append(suspicious.Figures, figure{strings.ToUpper(st[:1]) + st[1:], count(sus.ByState[st])})
	}
	switch {
	case !sus.Complete:
		suspicious.Note = fmt.Sprintf("The period holds more alerts than the %d newest counted here.", MaxAlerts)
	case sus.Alerts > int64(len(sus.Entries)):
		suspicious.Note = fmt.Sprintf("The newest %d of %d alerts are listed.", len(sus.Entries), sus.Alerts)
	}
	at := table{Title: "Alerts raised", Empty: "No alert was raised in the period.",
		Columns: []string{"Raised", "Severity", "State", "Raised by", "Summary"},
		Numeric: []bool{false, false, false, false, false}, Widths: []float64{2.2, 1.4, 1.8, 2.4, 5.5}}
	for _, a := range sus.Entries {
		at.Rows = append(at.Rows, []string{moment(a.RaisedAt, loc), a.Severity, a.State, a.Source, a.Summary})
	}
	suspicious.Tables = []table{at}
	return append(sec, suspicious)
}

// permissionText says what a permission change did.
func permissionText(c searchapi.PermissionChange) string {
	switch c.Action {
	case "user.role_changed":
		return "role " + c.From + " → " + c.To
	case "user.activated":
		return "activated"
	case "user.deactivated":
		return "deactivated"
	}
	return c.Action
}

// thingLabel names an asset, a license or a member by name, else by id.
func thingLabel(t searchapi.Thing) string {
	if t.Name != "" {
		return t.Name
	}
	return t.ID
}
