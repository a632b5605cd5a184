package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestAlertRuleConditionsOverHTTP creates a rule for high-value asset
// assignments with a condition on the asset's value, refuses conditions it
// cannot read with 400 naming the part at fault, and follows assignments
// through the relay and the detector: only the asset worth more than the
// amount, in the rule's currency, raises an alert, and likewise only the
// seat of the license worth at least a rule's amount.
func TestAlertRuleConditionsOverHTTP(t *testing.T) {
	cfg := MustStack(t)
	cfg.AlertConfigTTL = 50 * time.Millisecond // the rule is seen as soon as it is saved
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleDetect)
	ob := mustOutbox(t, cfg)
	owner := mustOwner(t, m, cfg, "Conditions")
	email := []map[string]any{{"type": "email", "to": []string{"it@example.com"}}}
	over2000 := []map[string]any{{"field": "asset.value", "operator": "gt", "value": "2000", "currency": "eur"}}

	var rule alert.AlertRule
	before := ob.last()
	a := owner.call("POST", "/api/v1/alert-rules", map[string]any{"name": "Expensive hand-outs", "activity_types": []string{"asset.assigned"}, "conditions": over2000, "channels": email}, nil)
	a.decode(t, &rule)
	if a.status != 201 || len(rule.Conditions) != 1 || rule.Conditions[0] != (alert.Condition{Field: "asset.value", Operator: "gt", Value: "2000", Currency: "EUR"}) {
		t.Fatalf("create with a condition: %d %s", a.status, a.body)
	}
	e, _ := mustOneEvent(t, ob, before, "alert_rule.created")
	wantChange(t, e, "conditions", "", "asset.value > 2000 EUR")
	var got alert.AlertRule
	owner.call("GET", "/api/v1/alert-rules/"+rule.ID, nil, nil).decode(t, &got)
	if len(got.Conditions) != 1 || got.Conditions[0].Currency != "EUR" {
		t.Errorf("read back: %+v", got.Conditions)
	}
	var presets struct {
		Presets []struct {
			Name string
			Rule alert.AlertRule
		}
	}
	owner.call("GET", "/api/v1/alert-rules/presets", nil, nil).decode(t, &presets)
	for _, p := range presets.Presets {
		if p.Name == "high_value_asset_assignments" && (len(p.Rule.Conditions) != 1 || p.Rule.Conditions[0].Currency != "EUR") {
			t.Errorf("the high-value preset shows %+v", p.Rule.Conditions)
		}
	}
	var preset alert.AlertRule
	owner.call("POST", "/api/v1/alert-rules", map[string]any{"preset": "high_value_asset_assignments", "enabled": false}, nil).decode(t, &preset)
	if len(preset.Conditions) != 1 || preset.Conditions[0].Field != "asset.value" || preset.Enabled {
		t.Errorf("the high-value preset: %+v", preset)
	}

	// Bad conditions name their part and write nothing.
	cond := func(field, op, value, currency string) []map[string]any {
		return []map[string]any{{"field": field, "operator": op, "value": value, "currency": currency}}
	}
	for _, tt := range []struct {
		name, method, path string
		conditions         any
		field              string
	}{
		{"unknown field", "POST", "", cond("asset.price", "gt", "1", "EUR"), "conditions[0].field"},
		{"no field", "POST", "", cond("", "gt", "1", "EUR"), "conditions[0].field"},
		{"unknown operator", "POST", "", cond("asset.value", "above", "1", "EUR"), "conditions[0].operator"},
		{"value not a number", "POST", "", cond("asset.value", "gt", "lots", "EUR"), "conditions[0].value"},
		{"value with a thousands separator", "POST", "", cond("asset.value", "gt", "2,000", "EUR"), "conditions[0].value"},
		{"money without a currency", "POST", "", cond("asset.value", "gt", "2000", ""), "conditions[0].currency"},
		{"not a currency", "POST", "", cond("asset.value", "gt", "2000", "euro"), "conditions[0].currency"},
		{"second condition bad", "POST", "", append(cond("asset.value", "gt", "1", "EUR"), cond("asset.value", "lt", "x", "EUR")...), "conditions[1].value"},
		{"number as a JSON number", "POST", "", []map[string]any{{"field": "asset.value", "operator": "gt", "value": 2000, "currency": "EUR"}}, "conditions.value"},
		{"unknown key", "POST", "", []map[string]any{{"field": "asset.value", "operator": "gt", "value": "1", "currency": "EUR", "unit": "k"}}, "unit"},
		{"update: bad operator", "PATCH", rule.ID, cond("asset.value", "ne", "1", "EUR"), "conditions[0].operator"},
		{"update: missing currency", "PATCH", rule.ID, cond("asset.value", "gte", "1", ""), "conditions[0].currency"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := ob.last()
			path, body := "/api/v1/alert-rules", map[string]any{"conditions": tt.conditions}
			if tt.path != "" {
				path += "/" + tt.path
			} else {
				body["name"], body["activity_types"], body["channels"] = "x", []string{"asset.assigned"}, email
			}
			wantError(t, owner.call(tt.method, path, body, nil), 400, tt.field)
			wantNoEvents(t, ob, before)
		})
	}
	owner.call("GET", "/api/v1/alert-rules/"+rule.ID, nil, nil).decode(t, &got)
	if len(got.Conditions) != 1 || got.Conditions[0].Operator != "gt" {
		t.Errorf("a refused update changed the conditions: %+v", got.Conditions)
	}

	var seats alert.AlertRule
	owner.call("POST", "/api/v1/alert-rules", map[string]any{"name": "Costly seats", "activity_types": []string{"license.assigned"},
		"conditions": []map[string]any{{"field": "license.value", "operator": "gte", "value": "10000", "currency": "USD"}}, "channels": email}, nil).decode(t, &seats)
	if len(seats.Conditions) != 1 {
		t.Fatalf("a rule on a license's value: %+v", seats)
	}

	// Assignments: below the amount, in another currency, without a value,
	// and last above the amount. The workspace's events keep their order
	// on the topic, so once the last one's alert is in, the others were
	// checked.
	assignee := mustRoleMember(t, m, owner.client, "member")
	assets := []struct{ value, currency string }{{"1999.99", "EUR"}, {"9000", "USD"}, {"", ""}, {"2000.00", "EUR"}, {"2450.00", "EUR"}}
	names := make([]string, len(assets))
	for i, as := range assets {
		names[i] = fmt.Sprintf("Laptop %d %s", i, stacktest.RandomID())
		body := map[string]string{"name": names[i]}
		if as.value != "" {
			body["value"], body["currency"] = as.value, as.currency
		}
		id := mustID(t, owner.call("POST", "/api/v1/assets", body, nil), "asset")
		if a := owner.call("POST", "/api/v1/assets/"+id+"/assign", map[string]string{"user_id": assignee.id}, nil); a.status != 200 {
			t.Fatalf("assign %s: %d %s", names[i], a.status, a.body)
		}
	}
	// Seats: of a license worth less, then of one worth more.
	licenses := []string{"Figma " + stacktest.RandomID(), "Oracle " + stacktest.RandomID()}
	for i, value := range []string{"9999.99", "12000"} {
		id := mustID(t, owner.call("POST", "/api/v1/licenses", map[string]any{"name": licenses[i], "seats": 5, "value": value, "currency": "USD"}, nil), "license")
		if a := owner.call("POST", "/api/v1/licenses/"+id+"/assign", map[string]string{"user_id": assignee.id}, nil); a.status != 200 {
			t.Fatalf("assign a seat of %s: %d %s", licenses[i], a.status, a.body)
		}
	}
	var raised, seatAlerts []alert.Alert
	stacktest.Eventually(t, "the alerts of the high-value assignment and the costly seat", func() bool {
		var page struct {
			Alerts []alert.Alert `json:"alerts"`
		}
		owner.call("GET", "/api/v1/alerts?limit=100", nil, nil).decode(t, &page)
		raised, seatAlerts = raised[:0], seatAlerts[:0]
		for _, al := range page.Alerts {
			switch al.RuleID {
			case rule.ID:
				raised = append(raised, al)
			case seats.ID:
				seatAlerts = append(seatAlerts, al)
			}
		}
		return len(raised) > 0 && len(seatAlerts) > 0
	})
	if len(seatAlerts) != 1 || !strings.HasSuffix(seatAlerts[0].Summary, fmt.Sprintf("did license.assigned on %q", licenses[1])) {
		t.Errorf("alerts of the seats rule: %+v", seatAlerts)
	}
	if len(raised) != 1 || !strings.HasPrefix(raised[0].Summary, "Expensive hand-outs: ") || !strings.HasSuffix(raised[0].Summary, fmt.Sprintf("did asset.assigned on %q", names[4])) {
		t.Errorf("alerts of the rule: %+v", raised)
	}
}
