package opensearch

import (
	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// licenseAggs counts license changes per action and license, seats given
// and taken back per license and member, and lists the newest key views
// and renewals.
func licenseAggs() map[string]any {
	return map[string]any{
		"changes": filterAgg(succeeded(licenseChanges...), map[string]any{
			"actions": map[string]any{"terms": termsAgg("action", 2*len(licenseChanges))},
			"licenses": topOf("resource.id", map[string]any{
				"actions": map[string]any{"terms": termsAgg("action", 2*len(licenseChanges))},
				"latest":  latestOf("resource.name"),
			}),
		}),
		"seats": filterAgg(succeeded("license.assigned", "license.unassigned"), map[string]any{
			"assigned":   filterAgg(term("action", "license.assigned"), nil),
			"unassigned": filterAgg(term("action", "license.unassigned"), nil),
			"licenses": topOf("resource.id", map[string]any{
				"assigned":   filterAgg(term("action", "license.assigned"), nil),
				"unassigned": filterAgg(term("action", "license.unassigned"), nil),
				"latest":     latestOf("resource.name"),
			}),
			// A seat's event names its member as its one related resource.
			"given": filterAgg(term("action", "license.assigned"), map[string]any{
				"members": topOf("related.id", map[string]any{"latest": latestOf("related.id", "related.name")}),
			}),
		}),
		"keys": filterAgg(succeeded("license.key_viewed"), map[string]any{
			"viewers":  countOf("actor.id"),
			"licenses": countOf("resource.id"),
			"by_viewer": topOf("actor.id", map[string]any{
				"latest": latestOf("actor.name", "actor.email"),
			}),
			"latest": newest("occurred_at", "resource.id", "resource.name", "actor.id", "actor.name", "actor.email", "context.ip"),
		}),
		"renewals": filterAgg(succeeded("license.renewed"), map[string]any{
			"licenses": countOf("resource.id"),
			"latest":   newest("occurred_at", "resource.id", "resource.name", "actor.id", "actor.name", "actor.email", "changes"),
		}),
	}
}

// licenseAnswer is OpenSearch's answer to the license report's search.
type licenseAnswer struct {
	reportHead
	Aggregations struct {
		Changes struct {
			DocCount int64                            `json:"doc_count"`
			Actions  termsAnswer[countBucket[string]] `json:"actions"`
			Licenses termsAnswer[struct {
				countBucket[string]
				Actions termsAnswer[countBucket[string]]                `json:"actions"`
				Latest  latestHit[struct{ Resource activity.Resource }] `json:"latest"`
			}] `json:"licenses"`
		} `json:"changes"`
		Seats struct {
			Assigned   docCount                    `json:"assigned"`
			Unassigned docCount                    `json:"unassigned"`
			Licenses   termsAnswer[assignedBucket] `json:"licenses"`
			Given      struct {
				Members termsAnswer[struct {
					countBucket[string]
					Latest latestHit[struct{ Related []activity.Resource }] `json:"latest"`
				}] `json:"members"`
			} `json:"given"`
		} `json:"seats"`
		Keys struct {
			DocCount int64 `json:"doc_count"`
			Viewers  value `json:"viewers"`
			Licenses value `json:"licenses"`
			ByViewer termsAnswer[struct {
				countBucket[string]
				Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
			}] `json:"by_viewer"`
			Latest latestHit[activity.Event] `json:"latest"`
		} `json:"keys"`
		Renewals struct {
			DocCount int64                     `json:"doc_count"`
			Licenses value                     `json:"licenses"`
			Latest   latestHit[activity.Event] `json:"latest"`
		} `json:"renewals"`
	} `json:"aggregations"`
}

func (a *licenseAnswer) report() *searchapi.LicenseReport {
	agg := a.Aggregations
	r := &searchapi.LicenseReport{
		Changes: searchapi.LicenseChanges{Changes: agg.Changes.DocCount, Actions: []searchapi.ActionCount{}, Entries: []searchapi.ChangedThing{}},
		Assignments: searchapi.SeatAssignments{
			Assigned: agg.Seats.Assigned.DocCount, Unassigned: agg.Seats.Unassigned.DocCount,
			Entries: []searchapi.AssignedThing{}, Assignees: []searchapi.AssignedPerson{},
		},
		KeyAccess: searchapi.KeyAccessLog{
			Views: agg.Keys.DocCount, Viewers: agg.Keys.Viewers.count(), Licenses: agg.Keys.Licenses.count(),
			Entries: []searchapi.KeyView{}, Top: []searchapi.UserSeen{},
		},
		Renewals: searchapi.RenewalActivity{Renewals: agg.Renewals.DocCount, Licenses: agg.Renewals.Licenses.count(), Entries: []searchapi.Renewal{}},
	}
	for _, b := range agg.Changes.Actions.Buckets {
		r.Changes.Actions = append(r.Changes.Actions, searchapi.ActionCount{Action: b.Key, Count: b.DocCount})
	}
	for _, b := range agg.Changes.Licenses.Buckets {
		c := searchapi.ChangedThing{Thing: searchapi.Thing{ID: b.Key, Name: b.Latest.source().Resource.Name}, Changes: b.DocCount, Actions: map[string]int64{}}
		for _, ab := range b.Actions.Buckets {
			c.Actions[ab.Key] = ab.DocCount
		}
		r.Changes.Entries = append(r.Changes.Entries, c)
	}
	for _, b := range agg.Seats.Licenses.Buckets {
		r.Assignments.Entries = append(r.Assignments.Entries, b.thing())
	}
	for _, b := range agg.Seats.Given.Members.Buckets {
		m := searchapi.AssignedPerson{Thing: searchapi.Thing{ID: b.Key}, Assigned: b.DocCount}
		for _, rel := range b.Latest.source().Related {
			if rel.ID == b.Key {
				m.Name = rel.Name
			}
		}
		r.Assignments.Assignees = append(r.Assignments.Assignees, m)
	}
	for _, b := range agg.Keys.ByViewer.Buckets {
		who := person(b.Latest.source().Actor)
		who.ID = b.Key
		r.KeyAccess.Top = append(r.KeyAccess.Top, searchapi.UserSeen{Person: who, Count: b.DocCount})
	}
	for _, e := range agg.Keys.Latest.sources() {
		r.KeyAccess.Entries = append(r.KeyAccess.Entries, searchapi.KeyView{At: e.OccurredAt.UTC(), License: thing(e.Resource), By: person(e.Actor), IP: e.Context.IP})
	}
	for _, e := range agg.Renewals.Latest.sources() {
		rn := searchapi.Renewal{At: e.OccurredAt.UTC(), License: thing(e.Resource), By: person(e.Actor)}
		for _, c := range e.Changes {
			if c.Field == "expires_on" {
				rn.From, rn.To = c.Before, c.After
			}
		}
		r.Renewals.Entries = append(r.Renewals.Entries, rn)
	}
	return r
}
