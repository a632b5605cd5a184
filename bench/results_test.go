package main

import (
	"slices"
	"testing"
)

var testSections = []section{{name: "throughput"}, {name: "freshness"}, {name: "api"}, {name: "relay"}, {name: "indexer"}, {name: "search"}}

func TestPickSections(t *testing.T) {
	tests := []struct {
		only string
		want []string
		bad  bool
	}{
		{"", []string{"throughput", "freshness", "api", "relay", "indexer", "search"}, false},
		{"search", []string{"search"}, false},
		{"search, relay", []string{"relay", "search"}, false},
		{"search,nothing", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.only, func(t *testing.T) {
			got, err := pickSections(testSections, tt.only)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want one: %v", err, tt.bad)
			}
			var names []string
			for _, s := range got {
				names = append(names, s.name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("sections %v, want %v", names, tt.want)
			}
		})
	}
}

// TestMerge checks that a run of some sections replaces their figures,
// keeps the others with the commit and time of the run that made them,
// and keeps the sections in their usual order.
func TestMerge(t *testing.T) {
	old := Results{When: "2026-11-25T23:44:26Z", Commit: "f236372", Figures: []Figure{
		{Name: "e2e.actions_per_s"},
		{Name: "relay.drain_events_per_s"},
		{Name: "ingest.events_per_s", Section: "indexer", Commit: "aaaaaaa", When: "2026-11-20T10:00:00Z"},
		{Name: "search.heatmap_p99_ms", Value: 1},
	}}
	run := Results{When: "2026-11-26T12:00:00Z", Commit: "bbbbbbb", Figures: []Figure{
		{Name: "search.filtered_p99_ms", Section: "search", Commit: "bbbbbbb", When: "2026-11-26T12:00:00Z"},
		{Name: "relay.drain_events_per_s", Value: 2, Section: "relay", Commit: "bbbbbbb", When: "2026-11-26T12:00:00Z"},
	}}
	got := merge(old, run, []string{"relay", "search"}, testSections)
	want := []Figure{
		{Name: "e2e.actions_per_s", Section: "throughput", Commit: "f236372", When: "2026-11-25T23:44:26Z"},
		{Name: "relay.drain_events_per_s", Value: 2, Section: "relay", Commit: "bbbbbbb", When: "2026-11-26T12:00:00Z"},
		{Name: "ingest.events_per_s", Section: "indexer", Commit: "aaaaaaa", When: "2026-11-20T10:00:00Z"},
		{Name: "search.filtered_p99_ms", Section: "search", Commit: "bbbbbbb", When: "2026-11-26T12:00:00Z"},
	}
	if got.When != run.When || got.Commit != run.Commit {
		t.Errorf("file written %s at %s, want the run's", got.When, got.Commit)
	}
	if !slices.Equal(got.Figures, want) {
		t.Errorf("figures\n%+v\nwant\n%+v", got.Figures, want)
	}
}
