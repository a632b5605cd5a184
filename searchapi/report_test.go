package searchapi

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxera/activity/alert"

	activity "github.com/fluxera/activity"
)

// TestReportQuery reads report queries with a fixed clock in Berlin: the
// period as the analyses read it, users and activity types in the form
// events store them, and every bad value refused naming its field.
func TestReportQuery(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	now := mustTime(t, "2026-03-31T12:00:00+02:00")
	id := "0B9F6A56-3D4E-4F4B-9A53-1F0E2C7D8E90"
	good := []struct {
		name     string
		q        ReportQuery
		from, to string
		users    []string
		types    []string
	}{
		{"dates", ReportQuery{Type: "user", From: "2026-03-01", To: "2026-03-31"}, "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", []string{}, []string{}},
		{"a range", ReportQuery{Type: "security", Range: "7d"}, "2026-03-25T00:00:00+01:00", "2026-04-01T00:00:00+02:00", []string{}, []string{}},
		{"thirty days by default", ReportQuery{Type: "asset"}, "2026-03-02T00:00:00+01:00", "2026-04-01T00:00:00+02:00", []string{}, []string{}},
		{"users and types normalized", ReportQuery{Type: "license", Range: "today", Users: []string{id, " " + strings.ToLower(id)},
			ActivityTypes: []string{"License.*", "auth", "license.key_viewed", "AUTH"}},
			"2026-03-31T00:00:00+02:00", "2026-04-01T00:00:00+02:00", []string{strings.ToLower(id)}, []string{"auth", "license.*", "license.key_viewed"}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.q.Request(now, berlin)
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != tt.q.Type || r.Period.From.Format("2006-01-02T15:04:05Z07:00") != tt.from || r.Period.To.Format("2006-01-02T15:04:05Z07:00") != tt.to ||
				!reflect.DeepEqual(r.Users, tt.users) || !reflect.DeepEqual(r.ActivityTypes, tt.types) {
				t.Errorf("request = %+v", r)
			}
			if err := r.Validate(); err != nil {
				t.Errorf("the request it made does not validate: %v", err)
			}
		})
	}
	many := make([]string, MaxFilterValues+1)
	for i := range many {
		many[i] = "auth"
	}
	bad := []struct {
		name  string
		q     ReportQuery
		field string
	}{
		{"no type", ReportQuery{}, "type"},
		{"an unknown type", ReportQuery{Type: "weekly"}, "type"},
		{"a type in capitals", ReportQuery{Type: "USER"}, "type"},
		{"over two years", ReportQuery{Type: "user", From: "2024-01-01", To: "2026-03-01"}, "to"},
		{"an unknown range", ReportQuery{Type: "user", Range: "1y"}, "range"},
		{"from alone", ReportQuery{Type: "user", From: "2026-03-01"}, "to"},
		{"a bad to", ReportQuery{Type: "user", From: "2026-03-01", To: "tomorrow"}, "to"},
		{"before the year 1 in UTC", ReportQuery{Type: "user", From: "0001-01-01", To: "0001-03-01"}, "from"},
		{"a user that is no id", ReportQuery{Type: "user", Users: []string{"me"}}, "users"},
		{"an empty user", ReportQuery{Type: "user", Users: []string{" "}}, "users"},
		{"an unknown action", ReportQuery{Type: "user", ActivityTypes: []string{"asset.exploded"}}, "activity_types"},
		{"an unknown category", ReportQuery{Type: "user", ActivityTypes: []string{"billing"}}, "activity_types"},
		{"an unknown resource", ReportQuery{Type: "user", ActivityTypes: []string{"billing.*"}}, "activity_types"},
		{"a wildcard elsewhere", ReportQuery{Type: "user", ActivityTypes: []string{"*.deleted"}}, "activity_types"},
		{"too many types", ReportQuery{Type: "user", ActivityTypes: many}, "activity_types"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.q.Request(now, berlin)
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field || activity.ErrorMessage(err) == "" {
				t.Errorf("error %v, want EINVALID on %s", err, tt.field)
			}
		})
	}
}

// TestReportRequestNamesItsActions checks which actions and categories
// the activity types of a request select.
func TestReportRequestNamesItsActions(t *testing.T) {
	r := ReportRequest{ActivityTypes: []string{"auth", "invitation.*", "license.key_viewed", "system"}}
	if got, want := r.Actions(), []string{"invitation.accepted", "invitation.declined", "invitation.revoked", "license.key_viewed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Actions() = %v, want %v", got, want)
	}
	if got, want := r.Categories(), []string{"auth", "system"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Categories() = %v, want %v", got, want)
	}
}

// TestActionsAreEveryRecordedAction reads the code that records events —
// the domain's storage, the alerts and the event contract's own wording —
// and fails for an action it records that Actions does not list, so that
// no report refuses an activity type the platform has.
func TestActionsAreEveryRecordedAction(t *testing.T) {
	action := regexp.MustCompile(`"((?:asset|license|user|invitation|auth|system|alert_rule|alert)\.[a-z_]+)"`)
	seen := 0
	for _, dir := range []string{"domain/postgres", "domain", "alert", "."} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range action.FindAllStringSubmatch(string(src), -1) {
				if _, field := alert.ConditionFields[m[1]]; field {
					continue // a field an alert rule's condition compares, not an action
				}
				seen++
				if !KnownAction(m[1]) {
					t.Errorf("%s records %s, which searchapi.Actions does not list", name, m[1])
				}
			}
		}
	}
	if seen < 40 {
		t.Errorf("only %d actions found in the code; has it moved?", seen)
	}
}
