package privacy_test

import (
	"slices"
	"strings"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/privacy"
)

func TestPseudonymIsStablePerWorkspace(t *testing.T) {
	k1, k2 := privacy.WorkspaceKey([]byte("secret"), "w1"), privacy.WorkspaceKey([]byte("secret"), "w2")
	a, b := privacy.PseudonymOf(k1, "u1"), privacy.PseudonymOf(k1, "u1")
	if a != b {
		t.Errorf("same person, two pseudonyms: %+v %+v", a, b)
	}
	if c := privacy.PseudonymOf(k2, "u1"); c == a {
		t.Errorf("two workspaces, one pseudonym: %+v", c)
	}
	if d := privacy.PseudonymOf(k1, "u2"); d.Name == a.Name {
		t.Errorf("two people, one pseudonym: %+v", d)
	}
	if !strings.HasPrefix(a.Name, "Former user ") || !strings.HasSuffix(a.Email, "@anonymized.invalid") || !strings.HasPrefix(a.IP, "2001:db8:") {
		t.Errorf("pseudonym %+v", a)
	}
}

func TestReplacementText(t *testing.T) {
	r := privacy.Replacement{
		Subject:   privacy.Subject{Names: []string{"Ada Lovelace", "Al"}, Emails: []string{"ada@example.com"}, IPs: []string{"203.0.113.7"}},
		Pseudonym: privacy.Pseudonym{Name: "Former user 1", Email: "former-user-1@anonymized.invalid", IP: "2001:db8::1"},
	}
	tests := []struct{ name, in, want string }{
		{"whole name", "Ada Lovelace", "Former user 1"},
		{"short whole name", "Al", "Former user 1"},
		{"short name inside text is left", "Alarm set", "Alarm set"},
		{"mention", "asked by Ada Lovelace today", "asked by Former user 1 today"},
		{"email before name", "mail ada@example.com", "mail former-user-1@anonymized.invalid"},
		{"address", "from 203.0.113.7", "from 2001:db8::1"},
		{"someone else", "Bob Stone", "Bob Stone"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReplacementApplyListsTheFieldsInTheChain(t *testing.T) {
	r := privacy.Replacement{
		Subject:   privacy.Subject{Names: []string{"Ada Lovelace"}, Emails: []string{"ada@example.com"}, IPs: []string{"203.0.113.7"}},
		Pseudonym: privacy.Pseudonym{Name: "Former user 1", Email: "former-user-1@anonymized.invalid", IP: "2001:db8::1"},
	}
	e := activity.Event{
		Actor:   activity.Actor{Name: "Ada Lovelace", Email: "ada@example.com"},
		Related: []activity.Resource{{Name: "Office"}, {Name: "Ada Lovelace"}},
		Context: activity.Context{IP: "203.0.113.7", Location: &activity.Location{City: "Delft"}},
		Details: map[string]any{"list": []any{"x", "ada@example.com"}, "n": 3},
		Chain:   &activity.Chain{Seq: 1},
	}
	got := r.Apply(&e)
	want := []string{"actor.email", "actor.name", "related.1.name", "context.ip", "details"}
	if !slices.Equal(got, want) || !slices.Equal(e.Chain.Anonymized, want) {
		t.Errorf("changed %v, chain lists %v; want %v", got, e.Chain.Anonymized, want)
	}
	if e.Context.Location != nil || e.Related[0].Name != "Office" || e.Details["list"].([]any)[1] != r.Pseudonym.Email {
		t.Errorf("entry after: %+v %+v %v", e.Context, e.Related, e.Details)
	}
	if again := r.Apply(&e); len(again) != 0 || len(e.Chain.Anonymized) != len(want) {
		t.Errorf("second pass changed %v", again)
	}
	// Someone else's entry from the same address keeps it.
	r.Subject.UserID = "ada"
	other := activity.Event{Actor: activity.Actor{ID: "bob", Name: "Bob"}, Context: activity.Context{IP: "203.0.113.7"}, Note: "met Ada Lovelace at 203.0.113.7"}
	if got := r.Apply(&other); !slices.Equal(got, []string{"note"}) || other.Context.IP != "203.0.113.7" || other.Note != "met Former user 1 at 203.0.113.7" {
		t.Errorf("Bob's entry: changed %v, %+v", got, other)
	}
}
