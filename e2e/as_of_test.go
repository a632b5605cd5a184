package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/app"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// TestAsOfRebuildsAnAssetBetweenItsChanges runs the API, the relay and
// the indexer, creates an asset and changes it several times, and asks
// for the asset as of each change and between changes: each answer holds
// the fields the API gave right after the change before that moment, and
// rests on the entries up to it, in publication order.
func TestAsOfRebuildsAnAssetBetweenItsChanges(t *testing.T) {
	cfg := MustStack(t)
	m := MustStart(t, cfg, app.RoleAPI, app.RoleRelay, app.RoleIngest)
	owner := mustOwner(t, m, cfg, "As of")
	admin := mustRoleMember(t, m, owner.client, activity.RoleAdmin)

	var states []domain.Asset
	a := owner.call("POST", "/api/v1/assets", map[string]string{"name": "ThinkPad X1", "asset_tag": "TP-" + stacktest.RandomID(), "location": "Berlin"}, nil)
	id := mustID(t, a, "asset")
	var asset domain.Asset
	a.decode(t, &asset)
	states = append(states, asset)
	for _, change := range []struct {
		method, path string
		body         map[string]string
	}{
		{"PATCH", "", map[string]string{"location": "Lyon", "serial": "SN-1"}},
		{"PATCH", "", map[string]string{"name": "ThinkPad X1 Carbon", "value": "1299.00", "currency": "EUR"}},
		{"PUT", "/status", map[string]string{"status": "in_maintenance", "note": "fan"}},
		{"PUT", "/status", map[string]string{"status": "available", "note": "repaired"}},
		{"POST", "/assign", map[string]string{"user_id": admin.id}},
		{"PATCH", "", map[string]string{"location": ""}},
	} {
		a := admin.call(change.method, "/api/v1/assets/"+id+change.path, change.body, nil)
		if a.status != http.StatusOK {
			t.Fatalf("change %v: %d %s", change, a.status, a.body)
		}
		var after domain.Asset
		a.decode(t, &after)
		states = append(states, after)
	}

	// The history, once the indexer has every change, in publication
	// order.
	var history []activity.Event
	stacktest.Eventually(t, "every change of the asset are indexed", func() bool {
		var p searchapi.EventPage
		a := owner.call("GET", "/api/v1/assets/"+id+"/history?limit=200", nil, nil)
		if a.status != http.StatusOK {
			return false
		}
		a.decode(t, &p)
		history = history[:0]
		for i := len(p.Entries) - 1; i >= 0; i-- {
			history = append(history, p.Entries[i].Event)
		}
		return len(history) == len(states)
	})

	asOf := func(c member, at string) answer {
		return c.call("GET", "/api/v1/assets/"+strings.ToUpper(id)+"/as-of?time="+url.QueryEscape(at), nil, nil)
	}
	for i, e := range history {
		moments := []time.Time{e.OccurredAt}
		if i+1 < len(history) {
			moments = append(moments, e.OccurredAt.Add(history[i+1].OccurredAt.Sub(e.OccurredAt)/2))
		} else {
			moments = append(moments, e.OccurredAt.Add(time.Hour))
		}
		for _, at := range moments {
			t.Run(fmt.Sprintf("after change %d at %s", i, at.Format(time.RFC3339Nano)), func(t *testing.T) {
				a := asOf(admin, at.Format(time.RFC3339Nano))
				if a.status != http.StatusOK {
					t.Fatalf("%d %s", a.status, a.body)
				}
				var v searchapi.AsOf
				a.decode(t, &v)
				want := states[i]
				got := domain.Asset{
					Name: v.Fields["name"], AssetTag: v.Fields["asset_tag"], Serial: v.Fields["serial"],
					Category: v.Fields["category"], Status: v.Fields["status"], Value: v.Fields["value"],
					Currency: v.Fields["currency"], Location: v.Fields["location"],
				}
				assignee := ""
				if want.AssignedTo != nil {
					assignee = want.AssignedTo.String()
				}
				if assignee != v.Fields["assigned_to"] {
					t.Errorf("assigned to %q, the API said %q", v.Fields["assigned_to"], assignee)
				}
				if got.Name != want.Name || got.AssetTag != want.AssetTag || got.Serial != want.Serial || got.Category != want.Category ||
					got.Status != want.Status || got.Value != want.Value || got.Currency != want.Currency || got.Location != want.Location {
					t.Errorf("as of: %+v\nthe API said then: %+v", got, want)
				}
				if v.Deleted || v.Resource.ID != id || v.Resource.Name != want.Name || !v.Time.Equal(at) {
					t.Errorf("resource %+v deleted %v time %s", v.Resource, v.Deleted, v.Time)
				}
				if len(v.Entries) != i+1 {
					t.Fatalf("rests on %d entries, want %d: %+v", len(v.Entries), i+1, v.Entries)
				}
				for j, r := range v.Entries {
					h := history[j]
					if r.ID != h.ID || r.Action != h.Action || !r.OccurredAt.Equal(h.OccurredAt) || h.Chain == nil || r.Seq != h.Chain.Seq {
						t.Errorf("entry %d: %+v, want %s %s at %s", j, r, h.ID, h.Action, h.OccurredAt)
					}
				}
			})
		}
	}

	// A user is rebuilt from the accepted invitation that made them.
	stacktest.Eventually(t, "the admin's joining is indexed", func() bool {
		a := owner.call("GET", "/api/v1/users/"+admin.id+"/as-of?time="+url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano)), nil, nil)
		if a.status != http.StatusOK {
			return false
		}
		var v searchapi.AsOf
		a.decode(t, &v)
		if v.Fields["email"] != admin.email || v.Fields["role"] != activity.RoleAdmin || v.Fields["active"] != "true" || len(v.Entries) == 0 || v.Entries[0].Action != "invitation.accepted" {
			t.Fatalf("the admin as of now: %s", a.body)
		}
		return true
	})

	// Before its creation the asset did not exist.
	a = asOf(owner, history[0].OccurredAt.Add(-time.Millisecond).Format(time.RFC3339Nano))
	var e struct{ Error activity.Error }
	a.decode(t, &e)
	if a.status != http.StatusNotFound || !strings.Contains(e.Error.Message, "existed") {
		t.Errorf("before creation: %d %s", a.status, a.body)
	}

	// Bad times name the parameter; roles that see only their own
	// actions are told they may not.
	for _, q := range []string{"", "?time=", "?time=yesterday", "?time=2026-12-01", "?time=2026-12-01T09:00:00Z&time=2026-12-02T09:00:00Z"} {
		a := owner.call("GET", "/api/v1/assets/"+id+"/as-of"+q, nil, nil)
		var e struct{ Error activity.Error }
		a.decode(t, &e)
		if a.status != http.StatusBadRequest || e.Error.Field != "time" {
			t.Errorf("%q: %d %s, want 400 on time", q, a.status, a.body)
		}
	}
	if a := owner.call("GET", "/api/v1/assets/42/as-of?time=2026-12-01T09:00:00Z", nil, nil); a.status != http.StatusBadRequest {
		t.Errorf("bad id: %d %s", a.status, a.body)
	}
	viewer := mustRoleMember(t, m, owner.client, activity.RoleViewer)
	if a := asOf(viewer, time.Now().Format(time.RFC3339)); a.status != http.StatusForbidden {
		t.Errorf("viewer: %d %s", a.status, a.body)
	}
}
