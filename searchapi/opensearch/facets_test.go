package opensearch

import (
	"strings"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/searchapi"
)

// names is a list of members by id: name and email.
type names map[string][2]string

func (n names) UserName(id string) (string, string, bool) {
	v, ok := n[id]
	return v[0], v[1], ok
}

// TestUserFacetNames checks on the real OpenSearch how the user facet is
// named: as in each user's latest matching entry, with a sub-aggregation,
// when the caller knows no names; from the caller's list with one search
// and no sub-aggregation when it knows every user; and from the list and,
// for the users it does not know, their latest matching entry, read with
// a second search, when it knows some.
func TestUserFacetNames(t *testing.T) {
	ws := activity.NewEventID()
	ann, bob, carl := activity.NewEventID(), activity.NewEventID(), activity.NewEventID()
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	var events []activity.Event
	for i, a := range []activity.Actor{
		{ID: ann, Name: "Ann Old", Email: "ann@old.example"}, {ID: ann, Name: "Ann Lee", Email: "ann@example.com"},
		{ID: bob, Name: "Bob Ray", Email: "bob@example.com"},
		{ID: carl, Name: "Carl Once", Email: "carl@once.example"}, {ID: carl, Name: "Carl Gone", Email: "carl@gone.example"},
	} {
		e := activity.NewEvent(ws, "asset.updated", start.Add(time.Duration(i)*time.Minute))
		a.Type = activity.ActorUser
		e.Actor = a
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: "Laptop"}
		events = append(events, e)
	}
	ix := mustActivityIndex(t, events)
	counter := &ostest.Searches{}
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses: []string{stacktest.OpenSearchURL()}, Transport: counter,
	}})
	if err != nil {
		t.Fatal(err)
	}
	finder := NewFinder(client, ix.prefix)
	p := owner(ws)

	members := names{ann: {"Ann Lee-Smith", "ann@members.example"}, bob: {"Robert Ray", "bob@members.example"}}
	everyone := names{ann: members[ann], bob: members[bob], carl: {"Carl Member", "carl@members.example"}}
	for _, tt := range []struct {
		name     string
		known    searchapi.UserNames
		searches int
		topHits  bool
		want     map[string][2]string
	}{
		{"no names given", nil, 1, true, map[string][2]string{
			ann: {"Ann Lee", "ann@example.com"}, bob: {"Bob Ray", "bob@example.com"}, carl: {"Carl Gone", "carl@gone.example"}}},
		{"every user known", everyone, 1, false, map[string][2]string{
			ann: everyone[ann], bob: everyone[bob], carl: everyone[carl]}},
		{"one user unknown", members, 2, false, map[string][2]string{
			ann: members[ann], bob: members[bob], carl: {"Carl Gone", "carl@gone.example"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			counter.Take()
			page, err := finder.FindEvents(t.Context(), p, searchapi.EventFilter{Facets: true, FacetNames: tt.known})
			if err != nil {
				t.Fatal(err)
			}
			sent := counter.Take()
			if len(sent) != tt.searches {
				t.Fatalf("%d searches, want %d: %q", len(sent), tt.searches, sent)
			}
			if got := strings.Contains(sent[0], "top_hits"); got != tt.topHits {
				t.Errorf("the page's search names users from their latest entry: %t, want %t", got, tt.topHits)
			}
			if page.Facets == nil || len(page.Facets.Users) != len(tt.want) {
				t.Fatalf("user facet %+v, want %d users", page.Facets, len(tt.want))
			}
			counts := map[string]int64{ann: 2, bob: 1, carl: 2}
			for _, u := range page.Facets.Users {
				if w := tt.want[u.ID]; u.Name != w[0] || u.Email != w[1] || u.Count != counts[u.ID] {
					t.Errorf("user %s: %q <%s> ×%d, want %q <%s> ×%d", u.ID, u.Name, u.Email, u.Count, w[0], w[1], counts[u.ID])
				}
			}
		})
	}
}
