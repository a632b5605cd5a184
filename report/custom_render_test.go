package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/searchapi"
)

// customSample is a custom report of a Berlin week with every metric, the
// busiest user named like a formula.
func customSample(t *testing.T) Report {
	t.Helper()
	berlin := zone(t, "Europe/Berlin")
	period, err := PeriodAt(PeriodLast7Days, time.Date(2026, 3, 9, 8, 0, 0, 0, berlin), berlin)
	if err != nil {
		t.Fatal(err)
	}
	users := int64(2)
	series := func(iv searchapi.Interval, split bool) *searchapi.Series {
		s := &searchapi.Series{Interval: iv}
		for i, start := range searchapi.BucketStarts(period.From, period.To, iv, berlin) {
			b := searchapi.TimelineBucket{Start: start, Count: int64(i % 3)}
			if split {
				b.Categories = map[string]int64{"auth": int64(i % 3), "asset": 0, "license": 0, "user": 0, "system": 0}
			}
			s.Buckets = append(s.Buckets, b)
		}
		return s
	}
	heat := [7][24]int64{}
	heat[0][9] = 4
	c := &searchapi.CustomReport{
		Metrics: searchapi.Metrics, Filter: searchapi.CustomFilter{ActivityTypes: []string{"auth"}, Outcome: "failure", Query: "-ip:192.0.2.1"},
		DistinctUsers: &users, ByOutcome: &searchapi.OutcomeCounts{Success: 5, Failure: 3},
		ByAction: &searchapi.Ranked[searchapi.ActionCount]{Entries: []searchapi.ActionCount{{Action: "auth.login_failed", Count: 3}}},
		ByUser: &searchapi.Ranked[searchapi.UserSeen]{Entries: []searchapi.UserSeen{
			{Person: searchapi.Person{ID: "u1", Name: "=HYPERLINK(\"http://x\")", Email: "x@example.com"}, Count: 6},
			{Person: searchapi.Person{ID: "u2", Name: "Zoë Ångström"}, Count: 2},
		}, Other: 7},
		ByResource: &searchapi.Ranked[searchapi.ResourceCount]{Entries: []searchapi.ResourceCount{{Type: "asset", ID: "a1", Name: "Laptop One", Count: 4}}},
		ByHour:     series(searchapi.IntervalHour, false), ByDay: series(searchapi.IntervalDay, false), ByWeek: series(searchapi.IntervalWeek, false),
		Timeline: series(searchapi.IntervalHour, true), Heatmap: &heat,
	}
	return Report{
		ID: "0199a000-0000-7000-8000-000000000002", Workspace: "Łódź Works", Type: searchapi.ReportCustom, Name: "Weekly digest, " + PeriodText(period),
		Parameters: searchapi.ReportQuery{Type: searchapi.ReportCustom, From: "2026-03-02", To: "2026-03-08"}, Period: period, Scope: ScopeWorkspace,
		GeneratedBy: Person{Name: SystemName}, GeneratedAt: time.Date(2026, 3, 9, 7, 0, 3, 0, time.UTC), DefinitionID: "0199a000-0000-7000-8000-000000000003",
		Result: Result{ReportResult: searchapi.ReportResult{Type: searchapi.ReportCustom, Period: period, Total: 8, Custom: c}},
	}
}

// TestCustomReportRendering renders a custom report with every metric as
// PDF, CSV and JSON: the definition's name heads it and names its files,
// every metric has its section, an hourly series runs over several pages
// with its header again, and a formula-like name is written as text.
func TestCustomReportRendering(t *testing.T) {
	r := customSample(t)
	if got := FileName(r, FormatPDF); got != "weekly-digest-2026-03-02-to-2026-03-08.pdf" {
		t.Errorf("file name %q", got)
	}
	pages := pdfText(t, r)
	if !strings.Contains(pages[0], "Weekly digest") || !strings.Contains(pages[0], "Fluxera schedule") || !strings.Contains(pages[0], "2026-03-02 to 2026-03-08") {
		t.Errorf("title page:\n%s", pages[0])
	}
	all := strings.Join(pages, "\n")
	for _, want := range []string{
		"What the report covers", "auth", "-ip:192.0.2.1", "Distinct users", "Actions by outcome", "Actions by action", "auth.login_failed",
		"Actions by user", "Zoë Ångström", "7 more actions fall outside the list.", "Actions by resource", "Laptop One",
		"Actions by hour (hour)", "Actions by day (day)", "Actions by week (week)", "Timeline (hour)", "Heatmap",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF does not say %q", want)
		}
	}
	continued := 0
	for _, p := range pages[1:] {
		if strings.HasPrefix(strings.TrimSpace(p), "From") {
			continued++
		}
	}
	if continued == 0 {
		t.Error("no page continues the hourly table with its header")
	}

	b, err := CSV(r)
	if err != nil {
		t.Fatal(err)
	}
	rd := csv.NewReader(bytes.NewReader(b))
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	for _, row := range rows {
		if len(row) == 1 {
			titles[row[0]] = true
		}
		for _, cell := range row {
			if strings.HasPrefix(cell, "=") {
				t.Errorf("a cell begins with =: %q", cell)
			}
		}
	}
	for _, want := range []string{"Actions by user: Actions by user", "Timeline: Timeline (hour)", "Heatmap: Actions by day of week and hour"} {
		if !titles[want] {
			t.Errorf("the CSV has no table %q", want)
		}
	}

	j, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if back.DefinitionID != r.DefinitionID || back.Result.Custom == nil || back.Result.Custom.ByUser.Other != 7 || len(back.Result.Custom.ByHour.Buckets) != 7*24 {
		t.Errorf("the JSON does not hold the report: %.300s", j)
	}
}
