package domain_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// literalChecker refuses URLs whose host is an address in 10.0.0.0/8, is
// unsure about hosts named "flaky", and allows the rest.
type literalChecker struct{ asked []string }

func (c *literalChecker) CheckURL(_ context.Context, raw string) error {
	c.asked = append(c.asked, raw)
	u, _ := url.Parse(raw)
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && netip.MustParsePrefix("10.0.0.0/8").Contains(a) {
		return activity.Errorf(activity.EINVALID, "url", "url points to a private address (%s)", a)
	}
	if u.Hostname() == "flaky" {
		return activity.Errorf(activity.EUNAVAILABLE, "url", "url host %q could not be resolved just now", u.Hostname())
	}
	if u.Hostname() == "broken" {
		return errors.New("resolver exploded")
	}
	return nil
}

func TestCheckChannels(t *testing.T) {
	for _, tt := range []struct {
		name     string
		channels []activity.Channel
		code     string
		field    string
		message  string
	}{
		{"allowed", []activity.Channel{{Type: "webhook", URL: "http://127.0.0.1:9000/hook"}, {Type: "email", To: []string{"A@Example.com"}}}, "", "", ""},
		{"refused", []activity.Channel{{Type: "email", Roles: []string{"owner"}}, {Type: "chat", URL: "https://10.2.3.4/x"}}, activity.EINVALID, "channels[1].url", "url points to a private address (10.2.3.4)"},
		{"unsure", []activity.Channel{{Type: "webhook", URL: "https://flaky/x"}}, activity.EUNAVAILABLE, "channels[0].url", `url host "flaky" could not be resolved just now`},
		{"checker failed", []activity.Channel{{Type: "webhook", URL: "https://broken/x"}}, activity.EINVALID, "channels[0].url", "resolver exploded"},
		{"bad shape before any check", []activity.Channel{{Type: "webhook", URL: "https://10.0.0.1/"}, {Type: "sms"}}, activity.EINVALID, "channels[1].type", ""},
		{"too many", make([]activity.Channel, activity.MaxChannels+1), activity.EINVALID, "channels", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checker := &literalChecker{}
			err := domain.CheckChannels(context.Background(), checker, tt.channels)
			if activity.ErrorField(err) == "channels[1].type" && len(checker.asked) != 0 {
				t.Errorf("asked about %v before every channel was checked", checker.asked)
			}
			if activity.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("error %v, want code %q", err, tt.code)
			}
			if activity.ErrorField(err) != tt.field || (tt.message != "" && activity.ErrorMessage(err) != tt.message) {
				t.Errorf("error %v, want field %q message %q", err, tt.field, tt.message)
			}
		})
	}
	if err := domain.CheckChannels(context.Background(), nil, []activity.Channel{{Type: "webhook", URL: "https://10.0.0.1/"}}); err != nil {
		t.Errorf("a nil checker refused: %v", err)
	}
}

func TestAlertRuleCreate(t *testing.T) {
	email := []activity.Channel{{Type: "email", To: []string{"soc@example.com"}}}
	for _, tt := range []struct {
		name  string
		in    domain.AlertRuleCreate
		field string
		check func(t *testing.T, r activity.AlertRule)
	}{
		{"preset without channels", domain.AlertRuleCreate{Preset: "failed_logins"}, "", func(t *testing.T, r activity.AlertRule) {
			if r.Preset != "failed_logins" || !r.Enabled || r.Threshold != 3 || r.WindowMinutes != 10 || r.Severity != "high" || len(r.Channels) != 1 || r.Channels[0].Roles[1] != "admin" {
				t.Errorf("%+v", r)
			}
		}},
		{"preset with overrides", domain.AlertRuleCreate{Preset: "bulk_operations", Name: ptr("Mass edits"), Threshold: ptr(20), Enabled: ptr(false), Channels: &email}, "", func(t *testing.T, r activity.AlertRule) {
			if r.Name != "Mass edits" || r.Threshold != 20 || r.WindowMinutes != 5 || r.Enabled || len(r.Channels) != 1 || r.Channels[0].To[0] != "soc@example.com" {
				t.Errorf("%+v", r)
			}
		}},
		{"preset is not changed by its rules", domain.AlertRuleCreate{Preset: "data_exports", ActivityTypes: &[]string{"asset.deleted"}}, "", func(t *testing.T, r activity.AlertRule) {
			if p, _ := activity.FindAlertPreset("data_exports"); p.Rule.ActivityTypes[0] != activity.ExportActions[0] {
				t.Errorf("the preset changed: %+v", p.Rule)
			}
		}},
		{"fields", domain.AlertRuleCreate{Name: ptr("Deletes"), ActivityTypes: &[]string{"*.deleted"}, UserIDs: &[]string{"0190A0B0-0000-7000-8000-000000000001"}, Channels: &email}, "", func(t *testing.T, r activity.AlertRule) {
			if r.Preset != "" || !r.Enabled || r.Threshold != 1 || r.GroupBy != "actor" || r.Severity != "medium" || r.UserIDs[0] != "0190a0b0-0000-7000-8000-000000000001" {
				t.Errorf("%+v", r)
			}
		}},
		{"fields without channels", domain.AlertRuleCreate{Name: ptr("Deletes"), ActivityTypes: &[]string{"*.deleted"}}, "channels", nil},
		{"threshold without window", domain.AlertRuleCreate{Preset: "role_changes", Threshold: ptr(4)}, "window_minutes", nil},
		{"unknown preset", domain.AlertRuleCreate{Preset: "all"}, "preset", nil},
		{"blank preset", domain.AlertRuleCreate{Preset: " "}, "preset", nil},
		{"long note", domain.AlertRuleCreate{Preset: "role_changes", Note: strings.Repeat("x", 2001)}, "note", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.in.Rule()
			if tt.field != "" {
				if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field {
					t.Fatalf("error %v, want invalid %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAlertRuleAuditHidesWebhookTokens(t *testing.T) {
	r := activity.AlertRule{Channels: []activity.Channel{
		{Type: "webhook", URL: "https://hooks.example.com/services/T0/B0/sekrit"},
		{Type: "email", To: []string{"a@example.com"}, Roles: []string{"owner"}},
	}}
	got := domain.AuditAlertRule(r).Channels
	if strings.Contains(got, "sekrit") || !strings.HasPrefix(got, "webhook hooks.example.com #") || !strings.HasSuffix(got, "; email to a@example.com and roles owner") {
		t.Errorf("channels described as %q", got)
	}
	other := domain.AuditAlertRule(activity.AlertRule{Channels: []activity.Channel{{Type: "webhook", URL: "https://hooks.example.com/services/T0/B0/other"}}}).Channels
	if other == strings.Split(got, ";")[0] {
		t.Errorf("two URLs of one host are described alike: %q", other)
	}
}

func TestAlertFilterAndCursor(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC)
	c := domain.AlertCursor{RaisedAt: at, ID: "0190a0b0-0000-7000-8000-000000000001"}
	back, err := domain.DecodeAlertCursor(c.Encode())
	if err != nil || !back.RaisedAt.Equal(at) || back.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	from, to := at, at.Add(-time.Hour)
	for _, tt := range []struct {
		name  string
		f     domain.AlertFilter
		field string
	}{
		{"empty", domain.AlertFilter{}, ""},
		{"all", domain.AlertFilter{State: "open", Severity: "high", Detector: "failed_logins", RuleID: c.ID, Limit: 200, Cursor: c.Encode()}, ""},
		{"state", domain.AlertFilter{State: "closed"}, "state"},
		{"severity", domain.AlertFilter{Severity: "urgent"}, "severity"},
		{"detector", domain.AlertFilter{Detector: "port_scans"}, "detector"},
		{"rule", domain.AlertFilter{RuleID: "7"}, "rule_id"},
		{"limit", domain.AlertFilter{Limit: 201}, "limit"},
		{"negative limit", domain.AlertFilter{Limit: -1}, "limit"},
		{"period", domain.AlertFilter{From: &from, To: &to}, "from"},
		{"cursor", domain.AlertFilter{Cursor: "abc"}, "cursor"},
		{"year 0", domain.AlertFilter{From: ptr(time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC))}, "from"},
		{"year 10000", domain.AlertFilter{To: ptr(time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -3600)))}, "to"},
		{"cursor of year 0", domain.AlertFilter{Cursor: base64.RawURLEncoding.EncodeToString([]byte(`{"t":"0000-06-01T00:00:00Z","id":"` + c.ID + `"}`))}, "cursor"},
		{"cursor without id", domain.AlertFilter{Cursor: domain.AlertCursor{RaisedAt: at}.Encode()}, "cursor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if activity.ErrorField(err) != tt.field || (tt.field == "") != (err == nil) {
				t.Fatalf("error %v, want field %q", err, tt.field)
			}
			if err == nil && tt.f.Limit == 0 {
				t.Error("no default limit")
			}
		})
	}
}

func TestDetectionChanges(t *testing.T) {
	before := activity.DefaultDetectionSettings()
	after := before.Merge(activity.DetectionUpdate{
		Detectors: map[string]activity.DetectorUpdate{"bulk_exports": {Threshold: ptr(5), Enabled: ptr(false)}},
		Channels:  &[]activity.Channel{},
	})
	got := domain.DetectionChanges(before, after)
	want := []activity.Change{
		{Field: "detectors.bulk_exports.enabled", Before: "true", After: "false"},
		{Field: "detectors.bulk_exports.threshold", Before: "3", After: "5"},
		{Field: "channels", Before: "email to roles owner, admin", After: ""},
	}
	if len(got) != len(want) {
		t.Fatalf("changes %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(domain.DetectionChanges(after, after)) != 0 {
		t.Error("equal settings differ")
	}
}
