package notify

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/fluxera/activity/alert"
)

// fact is one labelled line of an alert's description.
type fact struct{ label, value string }

// alertFacts describes an alert for people, one fact a line, without
// links: what raised it, whom it is about, how many events, when, and its
// id. Every value is a single line.
func alertFacts(a alert.Alert) []fact {
	var out []fact
	add := func(label, value string) {
		if value = singleLine(value); value != "" {
			out = append(out, fact{label, value})
		}
	}
	add("Severity", a.Severity)
	if a.RuleID != "" {
		name := a.RuleName
		if name == "" {
			name = a.RuleID
		}
		add("Rule", name)
	} else {
		add("Detector", a.Detector)
	}
	subject := a.Subject.Label
	if subject == "" {
		subject = a.Subject.ID
	}
	add("Subject", strings.TrimSpace(a.Subject.Type+" "+subject))
	if a.Window != "" {
		add("Events", fmt.Sprintf("%d within %s", a.Count, a.Window))
	} else if a.Count > 0 {
		add("Events", fmt.Sprint(a.Count))
	}
	if !a.OccurredAt.IsZero() {
		add("Occurred", a.OccurredAt.UTC().Format(factTime))
	}
	if !a.RaisedAt.IsZero() {
		add("Raised", a.RaisedAt.UTC().Format(factTime))
	}
	add("Alert id", a.ID)
	return out
}

// detailFacts lists an alert's details, sorted by key.
func detailFacts(a alert.Alert) []fact {
	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]fact, 0, len(keys))
	for _, k := range keys {
		if v := singleLine(fmt.Sprint(a.Details[k])); v != "" {
			out = append(out, fact{singleLine(k), v})
		}
	}
	return out
}

const factTime = "2006-01-02 15:04:05 UTC"

// singleLine turns every run of control characters and white space
// (CR and LF among them) into one space and trims the ends, so that a
// value cannot start a new line of a message or a new header.
func singleLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// sentence ends s with a full stop unless it ends with punctuation.
func sentence(s string) string {
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

// truncate cuts s to at most n runes, ending in an ellipsis when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
