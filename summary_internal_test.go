package activity

import (
	"strings"
	"testing"
)

// TestFillPhraseMatchesReplacer holds the summary's placeholder filling to
// what a strings.Replacer of the same pairs produces, for every phrase and
// for values that look like placeholders themselves.
func TestFillPhraseMatchesReplacer(t *testing.T) {
	values := [][]string{
		{"{actor}", "Jane Roe", "{resource}", "asset MacBook", "{name}", "MacBook", "{assignee}", "Bob", "{previous_assignee}", "Ann"},
		{"{actor}", "{name}", "{resource}", "{actor} {", "{name}", "}{assignee}", "{assignee}", "", "{previous_assignee}", "{x}"},
	}
	phrases := []string{"", "{", "}", "{unknown} {actor}", "{{actor}}", "{actor"}
	for _, p := range phrasesOf() {
		phrases = append(phrases, p)
	}
	for _, pairs := range values {
		r := strings.NewReplacer(pairs...)
		for _, p := range phrases {
			got := fillPhrase(p, func(placeholder string) (string, bool) {
				for i := 0; i < len(pairs); i += 2 {
					if pairs[i] == placeholder {
						return pairs[i+1], true
					}
				}
				return "", false
			})
			if want := r.Replace(p); got != want {
				t.Errorf("fillPhrase(%q) = %q, want %q", p, got, want)
			}
		}
	}
}

func phrasesOf() []string {
	var out []string
	for _, p := range phrases {
		out = append(out, p)
	}
	return out
}

// TestSummaryAllocations bounds the allocations of one summary, which the
// indexer writes for every event.
func TestSummaryAllocations(t *testing.T) {
	e := Event{
		Action:   "asset.assigned",
		Actor:    Actor{Name: "Jane Roe"},
		Resource: Resource{Type: "asset", Name: "MacBook Pro A-1029"},
		Related:  []Resource{{Type: "user", Name: "Bob Builder", Role: "assignee"}},
	}
	if got := testing.AllocsPerRun(100, func() { _ = e.Summary() }); got > 4 {
		t.Errorf("a summary takes %.0f allocations, want at most 4", got)
	}
}
