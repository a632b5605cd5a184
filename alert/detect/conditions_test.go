package detect_test

import (
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
)

// assetWorth puts an asset's value and currency in the event's details, as
// every event on an asset carries them.
func assetWorth(value, currency string) func(*activity.Event) {
	return func(e *activity.Event) {
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "MacBook Pro " + value + " " + currency}
		e.Details = map[string]any{alert.DetailAssetValue: value, alert.DetailAssetCurrency: currency}
	}
}

// TestDetectRuleConditionOnAssetValue: a rule for high-value asset
// assignments raises an alert for an asset worth more than its amount in
// its currency, and for no other: not at the amount, not below it, not in
// another currency, not for an asset without a value, and not for another
// action on a valuable asset.
func TestDetectRuleConditionOnAssetValue(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		cond  alert.Condition
		event func(ws string, a activity.Actor, at time.Time) activity.Event
		raise bool
	}{
		{"above the amount", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("2000.01", "EUR"))
		}, true},
		{"at the amount", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("2000.00", "EUR"))
		}, false},
		{"at the amount with gte", alert.Condition{Field: "asset.value", Operator: "gte", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("2000.00", "EUR"))
		}, true},
		{"below with lt", alert.Condition{Field: "asset.value", Operator: "lt", Value: "100", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("99.99", "EUR"))
		}, true},
		{"equal with eq", alert.Condition{Field: "asset.value", Operator: "eq", Value: "1299.5", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("1299.50", "EUR"))
		}, true},
		{"above with lte", alert.Condition{Field: "asset.value", Operator: "lte", Value: "1000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("1000.01", "EUR"))
		}, false},
		{"another currency", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, assetWorth("9000", "USD"))
		}, false},
		{"an asset without a value", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at)
		}, false},
		{"a value set by the event's changes", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.assigned", a, at, func(e *activity.Event) {
				e.Changes = []activity.Change{{Field: "value", After: "2500.00"}, {Field: "currency", After: "EUR"}}
			})
		}, true},
		{"another action", alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}, func(ws string, a activity.Actor, at time.Time) activity.Event {
			return event(ws, "asset.updated", a, at, assetWorth("5000", "EUR"))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := activity.NewEventID()
			cfg := alwaysWorking()
			rule := alert.AlertRule{ID: activity.NewEventID(), Name: "High-value asset assignments", Enabled: true,
				ActivityTypes: []string{"asset.assigned"}, Conditions: []alert.Condition{tt.cond}, Threshold: 1, GroupBy: alert.GroupByActor, Severity: "medium", Channels: alert.DefaultChannels()}
			if err := rule.Validate(); err != nil {
				t.Fatal(err)
			}
			cfg.Rules = []alert.AlertRule{rule}
			d, sink := MustDetector(t, staticConfigs{ws: cfg})
			MustDetect(t, d, 10, []activity.Event{tt.event(ws, person("Ann Lee"), t0)})
			var raised int
			for _, a := range sink.alerts() {
				if a.RuleID == rule.ID {
					raised++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.raise]; raised != want {
				t.Errorf("%d alerts of the rule, want %d: %v", raised, want, briefs(sink.alerts()))
			}
		})
	}
}
