package opensearch

import "github.com/fluxera/activity/searchapi"

// Facet sizes: the most values each dropdown offers.
const (
	facetUsers         = 100
	facetActions       = 200
	facetResourceTypes = 50
)

// facetAggs counts the matching entries by user, action and resource
// type; a user is named as in their latest matching entry.
func facetAggs() map[string]any {
	return map[string]any{
		"users": map[string]any{
			"terms": map[string]any{"field": "actor.id", "size": facetUsers},
			"aggs": map[string]any{"latest": map[string]any{"top_hits": map[string]any{
				"size":    1,
				"sort":    []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
				"_source": map[string]any{"includes": []string{"actor.name", "actor.email"}},
			}}},
		},
		"actions":        map[string]any{"terms": map[string]any{"field": "action", "size": facetActions}},
		"resource_types": map[string]any{"terms": map[string]any{"field": "resource.type", "size": facetResourceTypes}},
	}
}

type termsBuckets struct {
	Buckets []struct {
		Key      string `json:"key"`
		DocCount int64  `json:"doc_count"`
	} `json:"buckets"`
}

func (t termsBuckets) facets() []searchapi.Facet {
	out := make([]searchapi.Facet, 0, len(t.Buckets))
	for _, b := range t.Buckets {
		out = append(out, searchapi.Facet{Value: b.Key, Count: b.DocCount})
	}
	return out
}

// facetAggregations is the answer to facetAggs.
type facetAggregations struct {
	Users struct {
		Buckets []struct {
			Key      string `json:"key"`
			DocCount int64  `json:"doc_count"`
			Latest   struct {
				Hits struct {
					Hits []struct {
						Source struct {
							Actor struct {
								Name  string `json:"name"`
								Email string `json:"email"`
							} `json:"actor"`
						} `json:"_source"`
					} `json:"hits"`
				} `json:"hits"`
			} `json:"latest"`
		} `json:"buckets"`
	} `json:"users"`
	Actions       termsBuckets `json:"actions"`
	ResourceTypes termsBuckets `json:"resource_types"`
}

// facets returns the facets a search answered; none when the index
// answered without them, as it does before the first event.
func (a *facetAggregations) facets() *searchapi.Facets {
	out := &searchapi.Facets{Users: []searchapi.UserFacet{}, Actions: []searchapi.Facet{}, ResourceTypes: []searchapi.Facet{}}
	if a == nil {
		return out
	}
	for _, b := range a.Users.Buckets {
		u := searchapi.UserFacet{ID: b.Key, Count: b.DocCount}
		if h := b.Latest.Hits.Hits; len(h) > 0 {
			u.Name, u.Email = h[0].Source.Actor.Name, h[0].Source.Actor.Email
		}
		out.Users = append(out.Users, u)
	}
	out.Actions = a.Actions.facets()
	out.ResourceTypes = a.ResourceTypes.facets()
	return out
}
