package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoalMet(t *testing.T) {
	for _, c := range []struct {
		name string
		g    goal
		f    Figure
		want bool
	}{
		{"ratio at least, met", goal{MinRatio: 0.95}, Figure{Value: 96, Baseline: &Baseline{Value: 100}, Ratio: 0.96}, true},
		{"ratio at least, short", goal{MinRatio: 0.95}, Figure{Value: 90, Baseline: &Baseline{Value: 100}, Ratio: 0.9}, false},
		{"ratio at most and a value", goal{MaxRatio: 1.1, MaxValue: 1500}, Figure{Value: 1200, Baseline: &Baseline{Value: 1100}, Ratio: 1.09}, true},
		{"value over", goal{MaxRatio: 1.1, MaxValue: 1500}, Figure{Value: 1600, Baseline: &Baseline{Value: 1500}, Ratio: 1.07}, false},
		{"ratio with no baseline", goal{MinRatio: 0.5}, Figure{Value: 10}, false},
		{"value only", goal{MaxValue: 250}, Figure{Value: 186}, true},
	} {
		if got := c.g.met(c.f); got != c.want {
			t.Errorf("%s: met = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSummaryTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	res := Results{When: "2026-12-06T00:00:00Z", Commit: "abc", Cores: 2, Figures: []Figure{
		{Name: "ingest.events_per_s", Value: 19000, Unit: "events/s", Baseline: &Baseline{Name: "direct_bulk.events_per_s", Value: 20000}, Ratio: 0.95, Commit: "abc"},
		{Name: "console.assets_kb_gzip", Value: 300, Unit: "kB", Commit: "abc"},
		{Name: "unbounded.figure", Value: 1, Unit: "x", Commit: "abc"},
	}}
	var out strings.Builder
	if err := writeSummary(res, path, &out); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(filepath.Dir(path), "results.md"))
	if err != nil || string(md) != out.String() {
		t.Fatalf("results.md differs from what was printed (%v)", err)
	}
	for _, want := range []string{"| `ingest.events_per_s` | 19000 events/s | direct_bulk.events_per_s 20000 | 0.95 | ratio ≥ 0.95 | yes | abc |",
		"| `console.assets_kb_gzip` | 300 kB |  |  | under 250 | no | abc |", "| `unbounded.figure` | 1 x |  |  |  |  | abc |",
		"1 of the 2 figures with a goal meet it."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
}
