package alert_test

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
	"github.com/fluxera/activity/alert"
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
		channels []alert.Channel
		code     string
		field    string
		message  string
	}{
		{"allowed", []alert.Channel{{Type: "webhook", URL: "http://127.0.0.1:9000/hook"}, {Type: "email", To: []string{"A@Example.com"}}}, "", "", ""},
		{"refused", []alert.Channel{{Type: "email", Roles: []string{"owner"}}, {Type: "chat", URL: "https://10.2.3.4/x"}}, activity.EINVALID, "channels[1].url", "url points to a private address (10.2.3.4)"},
		{"unsure", []alert.Channel{{Type: "webhook", URL: "https://flaky/x"}}, activity.EUNAVAILABLE, "channels[0].url", `url host "flaky" could not be resolved just now`},
		{"checker failed", []alert.Channel{{Type: "webhook", URL: "https://broken/x"}}, activity.EINVALID, "channels[0].url", "resolver exploded"},
		{"bad shape before any check", []alert.Channel{{Type: "webhook", URL: "https://10.0.0.1/"}, {Type: "sms"}}, activity.EINVALID, "channels[1].type", ""},
		{"too many", make([]alert.Channel, alert.MaxChannels+1), activity.EINVALID, "channels", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checker := &literalChecker{}
			err := alert.CheckChannels(context.Background(), checker, tt.channels)
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
	if err := alert.CheckChannels(context.Background(), nil, []alert.Channel{{Type: "webhook", URL: "https://10.0.0.1/"}}); err != nil {
		t.Errorf("a nil checker refused: %v", err)
	}
}

func TestAlertRuleCreate(t *testing.T) {
	email := []alert.Channel{{Type: "email", To: []string{"soc@example.com"}}}
	for _, tt := range []struct {
		name  string
		in    alert.AlertRuleCreate
		field string
		check func(t *testing.T, r alert.AlertRule)
	}{
		{"preset without channels", alert.AlertRuleCreate{Preset: "failed_logins"}, "", func(t *testing.T, r alert.AlertRule) {
			if r.Preset != "failed_logins" || !r.Enabled || r.Threshold != 3 || r.WindowMinutes != 10 || r.Severity != "high" || len(r.Channels) != 1 || r.Channels[0].Roles[1] != "admin" {
				t.Errorf("%+v", r)
			}
		}},
		{"preset with overrides", alert.AlertRuleCreate{Preset: "bulk_operations", Name: ptr("Mass edits"), Threshold: ptr(20), Enabled: ptr(false), Channels: &email}, "", func(t *testing.T, r alert.AlertRule) {
			if r.Name != "Mass edits" || r.Threshold != 20 || r.WindowMinutes != 5 || r.Enabled || len(r.Channels) != 1 || r.Channels[0].To[0] != "soc@example.com" {
				t.Errorf("%+v", r)
			}
		}},
		{"preset is not changed by its rules", alert.AlertRuleCreate{Preset: "data_exports", ActivityTypes: &[]string{"asset.deleted"}}, "", func(t *testing.T, r alert.AlertRule) {
			if p, _ := alert.FindAlertPreset("data_exports"); p.Rule.ActivityTypes[0] != alert.ExportActions[0] {
				t.Errorf("the preset changed: %+v", p.Rule)
			}
		}},
		{"fields", alert.AlertRuleCreate{Name: ptr("Deletes"), ActivityTypes: &[]string{"*.deleted"}, UserIDs: &[]string{"0190A0B0-0000-7000-8000-000000000001"}, Channels: &email}, "", func(t *testing.T, r alert.AlertRule) {
			if r.Preset != "" || !r.Enabled || r.Threshold != 1 || r.GroupBy != "actor" || r.Severity != "medium" || r.UserIDs[0] != "0190a0b0-0000-7000-8000-000000000001" {
				t.Errorf("%+v", r)
			}
		}},
		{"fields without channels", alert.AlertRuleCreate{Name: ptr("Deletes"), ActivityTypes: &[]string{"*.deleted"}}, "channels", nil},
		{"threshold without window", alert.AlertRuleCreate{Preset: "role_changes", Threshold: ptr(4)}, "window_minutes", nil},
		{"unknown preset", alert.AlertRuleCreate{Preset: "all"}, "preset", nil},
		{"blank preset", alert.AlertRuleCreate{Preset: " "}, "preset", nil},
		{"long note", alert.AlertRuleCreate{Preset: "role_changes", Note: strings.Repeat("x", 2001)}, "note", nil},
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
	r := alert.AlertRule{Channels: []alert.Channel{
		{Type: "webhook", URL: "https://hooks.example.com/services/T0/B0/sekrit"},
		{Type: "email", To: []string{"a@example.com"}, Roles: []string{"owner"}},
	}}
	got := alert.AuditAlertRule(r).Channels
	if strings.Contains(got, "sekrit") || !strings.HasPrefix(got, "webhook hooks.example.com #") || !strings.HasSuffix(got, "; email to a@example.com and roles owner") {
		t.Errorf("channels described as %q", got)
	}
	other := alert.AuditAlertRule(alert.AlertRule{Channels: []alert.Channel{{Type: "webhook", URL: "https://hooks.example.com/services/T0/B0/other"}}}).Channels
	if other == strings.Split(got, ";")[0] {
		t.Errorf("two URLs of one host are described alike: %q", other)
	}
}

func TestAlertFilterAndCursor(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 30, 0, 123456000, time.UTC)
	c := alert.AlertCursor{RaisedAt: at, ID: "0190a0b0-0000-7000-8000-000000000001"}
	back, err := alert.DecodeAlertCursor(c.Encode())
	if err != nil || !back.RaisedAt.Equal(at) || back.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	from, to := at, at.Add(-time.Hour)
	for _, tt := range []struct {
		name  string
		f     alert.AlertFilter
		field string
	}{
		{"empty", alert.AlertFilter{}, ""},
		{"all", alert.AlertFilter{State: "open", Severity: "high", Detector: "failed_logins", RuleID: c.ID, Limit: 200, Cursor: c.Encode()}, ""},
		{"state", alert.AlertFilter{State: "closed"}, "state"},
		{"severity", alert.AlertFilter{Severity: "urgent"}, "severity"},
		{"detector", alert.AlertFilter{Detector: "port_scans"}, "detector"},
		{"rule", alert.AlertFilter{RuleID: "7"}, "rule_id"},
		{"limit", alert.AlertFilter{Limit: 201}, "limit"},
		{"negative limit", alert.AlertFilter{Limit: -1}, "limit"},
		{"period", alert.AlertFilter{From: &from, To: &to}, "from"},
		{"cursor", alert.AlertFilter{Cursor: "abc"}, "cursor"},
		{"year 0", alert.AlertFilter{From: ptr(time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC))}, "from"},
		{"year 10000", alert.AlertFilter{To: ptr(time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -3600)))}, "to"},
		{"cursor of year 0", alert.AlertFilter{Cursor: base64.RawURLEncoding.EncodeToString([]byte(`{"t":"0000-06-01T00:00:00Z","id":"` + c.ID + `"}`))}, "cursor"},
		{"cursor without id", alert.AlertFilter{Cursor: alert.AlertCursor{RaisedAt: at}.Encode()}, "cursor"},
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
	before := alert.DefaultDetectionSettings()
	after := before.Merge(alert.DetectionUpdate{
		Detectors: map[string]alert.DetectorUpdate{"bulk_exports": {Threshold: ptr(5), Enabled: ptr(false)}},
		Channels:  &[]alert.Channel{},
	})
	got := alert.DetectionChanges(before, after)
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
	if len(alert.DetectionChanges(after, after)) != 0 {
		t.Error("equal settings differ")
	}
}
