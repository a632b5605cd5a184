package alert

import (
	"testing"

	activity "github.com/fluxera/activity"
)

func TestConditionValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    Condition
		field string // the refused field; empty when valid
		want  Condition
	}{
		{"normalized", Condition{Field: " Asset.Value ", Operator: "GT", Value: " 2000 ", Currency: "eur"}, "", Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}},
		{"cents", Condition{Field: "asset.value", Operator: "lte", Value: "1299.50", Currency: "USD"}, "", Condition{Field: "asset.value", Operator: "lte", Value: "1299.50", Currency: "USD"}},
		{"unknown field", Condition{Field: "asset.price", Operator: "gt", Value: "1", Currency: "EUR"}, "c.field", Condition{}},
		{"unknown operator", Condition{Field: "asset.value", Operator: "ne", Value: "1", Currency: "EUR"}, "c.operator", Condition{}},
		{"empty value", Condition{Field: "asset.value", Operator: "gt", Currency: "EUR"}, "c.value", Condition{}},
		{"thousands separator", Condition{Field: "asset.value", Operator: "gt", Value: "2,000", Currency: "EUR"}, "c.value", Condition{}},
		{"exponent", Condition{Field: "asset.value", Operator: "gt", Value: "2e3", Currency: "EUR"}, "c.value", Condition{}},
		{"too long", Condition{Field: "asset.value", Operator: "gt", Value: "1234567890123456", Currency: "EUR"}, "c.value", Condition{}},
		{"no currency", Condition{Field: "asset.value", Operator: "gt", Value: "1"}, "c.currency", Condition{}},
		{"not a currency", Condition{Field: "asset.value", Operator: "gt", Value: "1", Currency: "euro"}, "c.currency", Condition{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			err := c.Validate("c")
			if tc.field == "" {
				if err != nil || c != tc.want {
					t.Fatalf("got %+v, %v; want %+v", c, err, tc.want)
				}
				return
			}
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tc.field {
				t.Errorf("got %v on %q, want invalid on %q", err, activity.ErrorField(err), tc.field)
			}
		})
	}
}

func TestConditionHolds(t *testing.T) {
	asset := func(value, currency string) activity.Event {
		e := activity.Event{Action: "asset.assigned", Resource: activity.Resource{Type: "asset"}}
		if value != "" {
			e.Details = map[string]any{DetailAssetValue: value, DetailAssetCurrency: currency}
		}
		return e
	}
	over := Condition{Field: "asset.value", Operator: OpGreater, Value: "2000", Currency: "EUR"}
	for _, tc := range []struct {
		name string
		c    Condition
		e    activity.Event
		want bool
	}{
		{"above", over, asset("2000.01", "EUR"), true},
		{"at", over, asset("2000.00", "EUR"), false},
		{"below", over, asset("150", "EUR"), false},
		{"another currency", over, asset("9000", "USD"), false},
		{"currency in lower case", over, asset("9000", "eur"), true},
		{"no value", over, asset("", ""), false},
		{"not an asset", over, activity.Event{Resource: activity.Resource{Type: "license"}, Details: map[string]any{DetailAssetValue: "9000", DetailAssetCurrency: "EUR"}}, false},
		{"from the changes", over, activity.Event{Resource: activity.Resource{Type: "asset"}, Changes: []activity.Change{{Field: "value", Before: "10", After: "2500.00"}, {Field: "currency", After: "EUR"}}}, true},
		{"gte at", Condition{Field: "asset.value", Operator: OpGreaterEqual, Value: "2000", Currency: "EUR"}, asset("2000", "EUR"), true},
		{"lt", Condition{Field: "asset.value", Operator: OpLess, Value: "100", Currency: "EUR"}, asset("99.99", "EUR"), true},
		{"lte above", Condition{Field: "asset.value", Operator: OpLessEqual, Value: "100", Currency: "EUR"}, asset("100.01", "EUR"), false},
		{"eq in other digits", Condition{Field: "asset.value", Operator: OpEqual, Value: "1299.5", Currency: "EUR"}, asset("1299.50", "EUR"), true},
		{"unreadable value", over, asset("lots", "EUR"), false},
		{"a license's value", Condition{Field: "license.value", Operator: OpGreaterEqual, Value: "10000", Currency: "USD"},
			activity.Event{Resource: activity.Resource{Type: "license"}, Details: map[string]any{DetailLicenseValue: "12000.00", DetailLicenseCurrency: "USD"}}, true},
		{"a license's value on an asset", Condition{Field: "license.value", Operator: OpGreater, Value: "1", Currency: "EUR"}, asset("9000", "EUR"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Holds(tc.e); got != tc.want {
				t.Errorf("Holds = %v, want %v", got, tc.want)
			}
		})
	}
}
