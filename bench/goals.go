package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// goal is what a figure should reach: a ratio to its baseline and/or a
// value, each bound optional.
type goal struct {
	// MinRatio and MaxRatio bound the ratio to the baseline; zero means
	// no bound.
	MinRatio, MaxRatio float64
	// MaxValue bounds the figure itself; zero means no bound.
	MaxValue float64
}

// goals are the figures' goals, as the benchmarks page states them.
var goals = map[string]goal{
	"ingest.events_per_s":               {MinRatio: 0.95},
	"ingest.searchable_p99_ms":          {MaxRatio: 1.1, MaxValue: 1500},
	"ingest.peak_rss_mb":                {MaxValue: 150},
	"ingest.events_per_s_with_detector": {MinRatio: 0.85},
	"detect.events_per_s":               {MinRatio: 0.5},
	"e2e.freshness_p99_ms":              {MaxValue: 1500},
	"relay.drain_events_per_s":          {MinRatio: 0.6},
	"api_role.write_per_s":              {MinRatio: 0.8},
	"api_role.write_per_s_with_chain":   {MinRatio: 0.95},
	"search.filtered_p99_ms":            {MaxRatio: 1.1},
	"search.history_p99_ms":             {MaxRatio: 1.1},
	"search.heatmap_p99_ms":             {MaxRatio: 1.1},
	"report.security_90d_p99_ms":        {MaxRatio: 1.2},
	"export.ndjson_rows_per_s":          {MinRatio: 0.8},
	"export.csv_rows_per_s":             {MinRatio: 0.8},
	"export.peak_rss_mb":                {MaxValue: 100},
	"console.activity_page_p99_ms":      {MaxRatio: 1.2},
	"console.assets_kb_gzip":            {MaxValue: 250},
	"analytics.time_spent_p99_ms":       {MaxRatio: 1.2, MaxValue: 1000},
	"analytics.engagement_p99_ms":       {MaxRatio: 1.2, MaxValue: 1000},
	"ingest.cpu_s_per_million":          {MaxValue: 12},
}

// String says the goal as a person reads it.
func (g goal) String() string {
	var parts []string
	if g.MinRatio > 0 {
		parts = append(parts, fmt.Sprintf("ratio ≥ %g", g.MinRatio))
	}
	if g.MaxRatio > 0 {
		parts = append(parts, fmt.Sprintf("ratio ≤ %g", g.MaxRatio))
	}
	if g.MaxValue > 0 {
		parts = append(parts, fmt.Sprintf("under %g", g.MaxValue))
	}
	return strings.Join(parts, ", ")
}

// met reports whether f reaches the goal.
func (g goal) met(f Figure) bool {
	if (g.MinRatio > 0 || g.MaxRatio > 0) && f.Baseline == nil {
		return false
	}
	if g.MinRatio > 0 && f.Ratio < g.MinRatio {
		return false
	}
	if g.MaxRatio > 0 && f.Ratio > g.MaxRatio {
		return false
	}
	if g.MaxValue > 0 && f.Value >= g.MaxValue {
		return false
	}
	return true
}

// writeSummary writes every figure with its baseline, ratio, goal and
// whether the goal is met as a markdown table: to w, and beside the
// results file as results.md.
func writeSummary(res Results, resultsPath string, w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark figures\n\nWritten by `make bench` from `%s` (last run %s at %s, %d cores). Each figure names the commit it was measured at; its notes in the JSON say how.\n\n",
		filepath.Base(resultsPath), res.When, res.Commit, res.Cores)
	b.WriteString("| figure | value | baseline | ratio | goal | met | commit |\n|---|---|---|---|---|---|---|\n")
	met, with := 0, 0
	for _, f := range res.Figures {
		base, ratio := "", ""
		if f.Baseline != nil {
			base = fmt.Sprintf("%s %g", f.Baseline.Name, f.Baseline.Value)
			ratio = fmt.Sprintf("%g", f.Ratio)
		}
		g, ok := goals[f.Name]
		verdict := ""
		if ok {
			with++
			verdict = "no"
			if g.met(f) {
				met++
				verdict = "yes"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %g %s | %s | %s | %s | %s | %s |\n", f.Name, f.Value, f.Unit, base, ratio, g, verdict, f.Commit)
	}
	fmt.Fprintf(&b, "\n%d of the %d figures with a goal meet it.\n", met, with)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	md := strings.TrimSuffix(resultsPath, filepath.Ext(resultsPath)) + ".md"
	return os.WriteFile(md, []byte(b.String()), 0o644)
}
