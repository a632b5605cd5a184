package report

import (
	"strings"
	"time"

	"github.com/fluxera/activity/searchapi"
)

// customSections renders a custom report: what it covers, then a section
// per metric in the catalogue's order.
func customSections(c *searchapi.CustomReport, total int64, loc *time.Location) []section {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	covers := section{Title: "What the report covers", Figures: []figure{
		{"Actions covered", count(total)},
		{"Metrics", metricTitles(c.Metrics)},
		{"Users", or(strings.Join(c.Filter.Users, ", "), "everyone")},
		{"Activity types", or(strings.Join(c.Filter.ActivityTypes, ", "), "every action")},
		{"Outcome", or(c.Filter.Outcome, "success and failure")},
		{"Search", or(c.Filter.Query, "none")},
	}}
	out := []section{covers}
	for _, m := range c.Metrics {
		s := section{Title: searchapi.MetricTitle(m)}
		switch m {
		case searchapi.MetricDistinctUsers:
			if c.DistinctUsers == nil {
				continue
			}
			s.Figures = []figure{{"Users who acted", count(*c.DistinctUsers)}}
		case searchapi.MetricByOutcome:
			if c.ByOutcome == nil {
				continue
			}
			s.Figures = []figure{{"Successful", count(c.ByOutcome.Success)}, {"Failed", count(c.ByOutcome.Failure)}}
			s.Bars = &barChart{Title: "Actions", Bars: []bar{{"success", c.ByOutcome.Success}, {"failure", c.ByOutcome.Failure}}}
		case searchapi.MetricByAction:
			if c.ByAction == nil {
				continue
			}
			s.Bars = &barChart{Title: "Actions"}
			t := table{Title: "Actions by action", Empty: noActions, Columns: []string{"Action", "Actions"},
				Numeric: []bool{false, true}, Widths: []float64{5, 1.5}}
			for _, e := range c.ByAction.Entries {
				s.Bars.Bars = append(s.Bars.Bars, bar{e.Action, e.Count})
				t.Rows = append(t.Rows, []string{e.Action, count(e.Count)})
			}
			s.Tables, s.Note = []table{t}, otherNote(c.ByAction.Other)
		case searchapi.MetricByUser:
			if c.ByUser == nil {
				continue
			}
			s.Bars = &barChart{Title: "Actions"}
			t := table{Title: "Actions by user", Empty: noActions, Columns: []string{"User", "Email", "Actions"},
				Numeric: []bool{false, false, true}, Widths: []float64{3, 4, 1.5}}
			for _, e := range c.ByUser.Entries {
				s.Bars.Bars = append(s.Bars.Bars, bar{e.Label(), e.Count})
				t.Rows = append(t.Rows, []string{e.Label(), e.Email, count(e.Count)})
			}
			s.Tables, s.Note = []table{t}, otherNote(c.ByUser.Other)
		case searchapi.MetricByResource:
			if c.ByResource == nil {
				continue
			}
			t := table{Title: "Actions by resource", Empty: noActions, Columns: []string{"Type", "Resource", "Id", "Actions"},
				Numeric: []bool{false, false, false, true}, Widths: []float64{1.5, 3.5, 4, 1.3}}
			for _, e := range c.ByResource.Entries {
				t.Rows = append(t.Rows, []string{e.Type, e.Name, e.ID, count(e.Count)})
			}
			s.Tables, s.Note = []table{t}, otherNote(c.ByResource.Other)
		case searchapi.MetricByHour, searchapi.MetricByDay, searchapi.MetricByWeek, searchapi.MetricTimeline:
			series := map[string]*searchapi.Series{
				searchapi.MetricByHour: c.ByHour, searchapi.MetricByDay: c.ByDay,
				searchapi.MetricByWeek: c.ByWeek, searchapi.MetricTimeline: c.Timeline,
			}[m]
			if series == nil {
				continue
			}
			s.Tables = []table{seriesTable(s.Title, series, m == searchapi.MetricTimeline, loc)}
		case searchapi.MetricHeatmap:
			if c.Heatmap == nil {
				continue
			}
			s.Heatmap = &heatmap{Title: "Actions by day of week and hour", Counts: *c.Heatmap}
		}
		out = append(out, s)
	}
	return out
}

// seriesTable lists a series' buckets by their start in the report's time
// zone; a timeline has a column per category.
func seriesTable(title string, s *searchapi.Series, split bool, loc *time.Location) table {
	t := table{Title: title + " (" + string(s.Interval) + ")", Empty: noActions, Columns: []string{"From", "Actions"},
		Numeric: []bool{false, true}, Widths: []float64{3, 1.5}}
	if split {
		t.Columns = append(t.Columns, searchapi.Categories...)
		for range searchapi.Categories {
			t.Numeric, t.Widths = append(t.Numeric, true), append(t.Widths, 1.3)
		}
	}
	layout := "2006-01-02"
	if s.Interval == searchapi.IntervalHour {
		layout = "2006-01-02 15:04 MST"
	}
	for _, b := range s.Buckets {
		row := []string{b.Start.In(loc).Format(layout), count(b.Count)}
		if split {
			for _, c := range searchapi.Categories {
				row = append(row, count(b.Categories[c]))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func metricTitles(metrics []string) string {
	out := make([]string, len(metrics))
	for i, m := range metrics {
		out[i] = searchapi.MetricTitle(m)
	}
	return strings.Join(out, ", ")
}

// otherNote says how many actions fell outside a ranked list.
func otherNote(other int64) string {
	if other == 0 {
		return ""
	}
	return count(other) + " more actions fall outside the list."
}
