package opensearch

import (
	"context"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// Facet sizes: the most values each dropdown offers.
const (
	facetUsers         = 100
	facetActions       = 200
	facetResourceTypes = 50
)

// facetAggs counts the matching entries by user, action and resource
// type. With named, a user is named as in their latest matching entry;
// without, the users are only counted, and named afterwards (see
// nameFacetUsers): finding each user's latest entry is most of what the
// facets cost OpenSearch.
func facetAggs(named bool) map[string]any {
	return map[string]any{
		"users":          userFacetAgg(facetUsers, named),
		"actions":        map[string]any{"terms": map[string]any{"field": "action", "size": facetActions}},
		"resource_types": map[string]any{"terms": map[string]any{"field": "resource.type", "size": facetResourceTypes}},
	}
}

// userFacetAgg counts the matching entries of the size users with the
// most, each named as in their latest matching entry when named.
func userFacetAgg(size int, named bool) map[string]any {
	agg := map[string]any{"terms": map[string]any{"field": "actor.id", "size": size}}
	if named {
		agg["aggs"] = map[string]any{"latest": map[string]any{"top_hits": map[string]any{
			"size":    1,
			"sort":    []any{map[string]any{"occurred_at": "desc"}, map[string]any{"id": "desc"}},
			"_source": map[string]any{"includes": []string{"actor.name", "actor.email"}},
		}}}
	}
	return agg
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

// nameFacetUsers names the users of facets that filter's FacetNames
// knows, and the others as in their latest entry matching filter within
// p's scope, read with one more search that only those users' entries
// pass.
func (f *Finder) nameFacetUsers(ctx context.Context, p activity.Principal, filter searchapi.EventFilter, facets *searchapi.Facets) error {
	var unknown []string
	at := map[string]int{}
	for i, u := range facets.Users {
		if name, email, ok := filter.FacetNames.UserName(u.ID); ok {
			facets.Users[i].Name, facets.Users[i].Email = name, email
			continue
		}
		unknown = append(unknown, u.ID)
		at[u.ID] = i
	}
	if len(unknown) == 0 {
		return nil
	}
	body := map[string]any{
		"query":            searchQuery(append(append(scope(p), filterClauses(filter)...), terms("actor.id", unknown)), filter.Search),
		"size":             0,
		"track_total_hits": false,
		"aggs":             map[string]any{"users": userFacetAgg(len(unknown), true)},
	}
	var res struct {
		Aggregations facetAggregations `json:"aggregations"`
	}
	if err := f.search(ctx, body, &res); err != nil {
		return err
	}
	for _, u := range res.Aggregations.facets().Users {
		if i, ok := at[u.ID]; ok {
			facets.Users[i].Name, facets.Users[i].Email = u.Name, u.Email
		}
	}
	return nil
}
