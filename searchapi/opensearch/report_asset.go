package opensearch

import (
	"sort"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// Asset actions the asset report reads apart.
var (
	assetAssignments = []string{"asset.assigned", "asset.unassigned"}
	assetMaintenance = []string{"asset.maintenance_scheduled", "asset.maintenance_completed"}
)

// assetAggs ranks the most changed assets, counts assignments per asset
// and lists the newest maintenance.
func assetAggs() map[string]any {
	return map[string]any{
		"modified": filterAgg(succeeded(searchapi.AssetChanges...), map[string]any{
			"assets": topOf("resource.id", map[string]any{
				"actions": map[string]any{"terms": termsAgg("action", 2*len(searchapi.AssetChanges))},
				"latest":  latestOf("resource.name"),
			}),
			"asset_count": countOf("resource.id"),
		}),
		"assignments": filterAgg(succeeded(assetAssignments...), map[string]any{
			"assigned":   filterAgg(term("action", "asset.assigned"), nil),
			"unassigned": filterAgg(term("action", "asset.unassigned"), nil),
			"assets": topOf("resource.id", map[string]any{
				"assigned":   filterAgg(term("action", "asset.assigned"), nil),
				"unassigned": filterAgg(term("action", "asset.unassigned"), nil),
				"latest":     latestOf("resource.name"),
			}),
		}),
		"maintenance": filterAgg(succeeded(assetMaintenance...), map[string]any{
			"scheduled": filterAgg(term("action", "asset.maintenance_scheduled"), nil),
			"completed": filterAgg(term("action", "asset.maintenance_completed"), nil),
			"latest":    newest("occurred_at", "action", "resource.id", "resource.name", "actor.id", "actor.name", "actor.email", "details"),
		}),
	}
}

// assetAnswer is OpenSearch's answer to the asset report's search.
type assetAnswer struct {
	reportHead
	Aggregations struct {
		Modified struct {
			DocCount int64 `json:"doc_count"`
			Assets   termsAnswer[struct {
				countBucket[string]
				Actions termsAnswer[countBucket[string]]                `json:"actions"`
				Latest  latestHit[struct{ Resource activity.Resource }] `json:"latest"`
			}] `json:"assets"`
			AssetCount value `json:"asset_count"`
		} `json:"modified"`
		Assignments struct {
			Assigned   docCount                    `json:"assigned"`
			Unassigned docCount                    `json:"unassigned"`
			Assets     termsAnswer[assignedBucket] `json:"assets"`
		} `json:"assignments"`
		Maintenance struct {
			Scheduled docCount                  `json:"scheduled"`
			Completed docCount                  `json:"completed"`
			Latest    latestHit[activity.Event] `json:"latest"`
		} `json:"maintenance"`
	} `json:"aggregations"`
}

// assignedBucket is an asset or a license with its assignments.
type assignedBucket struct {
	countBucket[string]
	Assigned   docCount                                        `json:"assigned"`
	Unassigned docCount                                        `json:"unassigned"`
	Latest     latestHit[struct{ Resource activity.Resource }] `json:"latest"`
}

func (b assignedBucket) thing() searchapi.AssignedThing {
	return searchapi.AssignedThing{
		Thing:    searchapi.Thing{ID: b.Key, Name: b.Latest.source().Resource.Name},
		Assigned: b.Assigned.DocCount, Unassigned: b.Unassigned.DocCount,
	}
}

// report returns the asset report but for its status changes.
func (a *assetAnswer) report() *searchapi.AssetReport {
	agg := a.Aggregations
	r := &searchapi.AssetReport{
		MostModified: searchapi.MostModifiedAssets{Changes: agg.Modified.DocCount, Assets: agg.Modified.AssetCount.count(), Entries: []searchapi.ChangedThing{}},
		Assignments: searchapi.AssetAssignments{
			Assigned: agg.Assignments.Assigned.DocCount, Unassigned: agg.Assignments.Unassigned.DocCount, Entries: []searchapi.AssignedThing{},
		},
		Maintenance: searchapi.MaintenanceHistory{
			Scheduled: agg.Maintenance.Scheduled.DocCount, Completed: agg.Maintenance.Completed.DocCount, Entries: []searchapi.MaintenanceEntry{},
		},
	}
	for _, b := range agg.Modified.Assets.Buckets {
		c := searchapi.ChangedThing{Thing: searchapi.Thing{ID: b.Key, Name: b.Latest.source().Resource.Name}, Changes: b.DocCount, Actions: map[string]int64{}}
		for _, ab := range b.Actions.Buckets {
			c.Actions[ab.Key] = ab.DocCount
		}
		r.MostModified.Entries = append(r.MostModified.Entries, c)
	}
	for _, b := range agg.Assignments.Assets.Buckets {
		r.Assignments.Entries = append(r.Assignments.Entries, b.thing())
	}
	for _, e := range agg.Maintenance.Latest.sources() {
		r.Maintenance.Entries = append(r.Maintenance.Entries, searchapi.MaintenanceEntry{
			At: e.OccurredAt.UTC(), Action: e.Action, Asset: thing(e.Resource), By: person(e.Actor),
			ScheduledFor: detailText(e.Details, "scheduled_for"), Description: detailText(e.Details, "description"),
			Outcome: detailText(e.Details, "outcome"),
		})
	}
	return r
}

// detailText returns a detail of an event that is text, or "".
func detailText(details map[string]any, key string) string {
	s, _ := details[key].(string)
	return s
}

// statusChangesBody returns the search of the successful asset actions
// other than creation and deletion that changed a status, newest first,
// with only their changes.
func statusChangesBody(p activity.Principal, r searchapi.ReportRequest) map[string]any {
	filters := append(reportFilters(p, r),
		term("resource.type", "asset"), term("outcome", activity.OutcomeSuccess), term("changes.field", "status"))
	return map[string]any{
		"query": map[string]any{"bool": map[string]any{
			"filter":   filters,
			"must_not": []any{terms("action", []string{"asset.created", "asset.deleted"})},
		}},
		"size":             searchapi.MaxReportStatusChanges,
		"track_total_hits": true,
		"sort":             []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
		"_source":          map[string]any{"includes": []string{"changes.field", "changes.before", "changes.after"}},
	}
}

// statusAnswer is OpenSearch's answer to statusChangesBody.
type statusAnswer struct {
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []struct {
			Source struct {
				Changes []activity.Change `json:"changes"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// changes counts the status changes by before and after, most first,
// ties in the order of the statuses' names.
func (s *statusAnswer) changes() searchapi.StatusChanges {
	counts := map[[2]string]int64{}
	var n int64
	for _, h := range s.Hits.Hits {
		for _, c := range h.Source.Changes {
			if c.Field == "status" && c.Before != "" && c.After != "" {
				counts[[2]string{c.Before, c.After}]++
				n++
			}
		}
	}
	out := searchapi.StatusChanges{
		Changes: n, Complete: s.Hits.Total.Value <= int64(len(s.Hits.Hits)), Entries: make([]searchapi.StatusTransition, 0, len(counts)),
	}
	for k, v := range counts {
		out.Entries = append(out.Entries, searchapi.StatusTransition{From: k[0], To: k[1], Count: v})
	}
	sort.Slice(out.Entries, func(i, j int) bool {
		a, b := out.Entries[i], out.Entries[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out
}
