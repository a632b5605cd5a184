package dashboards

import (
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

func TestRuleFormCreate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		form  ruleForm
		field string // refused by the form itself, or by the rule's checks
		check func(t *testing.T, r alert.AlertRule)
	}{
		{"everyone's failed logins to the owners and admins", ruleForm{Name: "Door", ActivityType: "auth.login_failed", Severity: "high", Method: "email"}, "", func(t *testing.T, r alert.AlertRule) {
			if len(r.UserIDs) != 0 || len(r.Channels) != 1 || len(r.Channels[0].Roles) != 2 || len(r.Channels[0].To) != 0 || len(r.Conditions) != 0 {
				t.Errorf("rule %+v", r)
			}
		}},
		{"a condition and recipients", ruleForm{Name: "Big", ActivityType: "asset.assigned", Severity: "medium", Method: "email", Recipients: "a@example.com; b@example.com\nc@example.com",
			CondField: "asset.value", CondOperator: "gt", CondValue: "2000", CondCurrency: "eur", Users: []string{"0190f000-0000-7000-8000-000000000001"}}, "", func(t *testing.T, r alert.AlertRule) {
			if len(r.Channels[0].To) != 3 || r.Channels[0].Roles != nil || len(r.UserIDs) != 1 || r.Conditions[0] != (alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}) {
				t.Errorf("rule %+v", r)
			}
		}},
		{"a webhook", ruleForm{Name: "Hook", ActivityType: "user.role_changed", Severity: "low", Method: "webhook", URL: "https://hooks.example.com/x"}, "", func(t *testing.T, r alert.AlertRule) {
			if r.Channels[0].URL != "https://hooks.example.com/x" {
				t.Errorf("rule %+v", r)
			}
		}},
		{"a count within a window", ruleForm{Name: "Many", ActivityType: "asset", Severity: "low", Method: "email", Threshold: "5", WindowMinutes: "10"}, "", func(t *testing.T, r alert.AlertRule) {
			if r.Threshold != 5 || r.WindowMinutes != 10 {
				t.Errorf("rule %+v", r)
			}
		}},
		{"a count in words", ruleForm{Name: "x", ActivityType: "auth", Severity: "low", Method: "email", Threshold: "five"}, "threshold", nil},
		{"a window in words", ruleForm{Name: "x", ActivityType: "auth", Severity: "low", Method: "email", Threshold: "2", WindowMinutes: "ten"}, "window_minutes", nil},
		{"an amount without a currency", ruleForm{Name: "x", ActivityType: "asset.assigned", Severity: "low", Method: "email", CondField: "asset.value", CondOperator: "gt", CondValue: "10"}, "cond_currency", nil},
		{"an amount without a field", ruleForm{Name: "x", ActivityType: "asset.assigned", Severity: "low", Method: "email", CondOperator: "gt", CondValue: "10", CondCurrency: "EUR"}, "cond_field", nil},
		{"no activity type", ruleForm{Name: "x", Severity: "low", Method: "email"}, "activity_type", nil},
		{"a bad address", ruleForm{Name: "x", ActivityType: "auth", Severity: "low", Method: "email", Recipients: "nobody"}, "recipients", nil},
		{"a webhook without a URL", ruleForm{Name: "x", ActivityType: "auth", Severity: "low", Method: "webhook"}, "url", nil},
		{"an unknown method", ruleForm{Name: "x", ActivityType: "auth", Severity: "low", Method: "sms"}, "method", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := tc.form.create()
			var r alert.AlertRule
			if err == nil {
				r, err = in.Rule()
			}
			if tc.field != "" {
				if activity.ErrorCode(err) != activity.EINVALID || formField(activity.ErrorField(err)) != tc.field {
					t.Fatalf("got %v on %q, want invalid on the form's %s", err, activity.ErrorField(err), tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}
