package opensearch

import (
	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// userAggs counts the actions of users, ranks them, counts their logins
// and the use of each category and action.
func userAggs(period searchapi.Period) map[string]any {
	users := countOf("actor.id")
	return map[string]any{
		"by_users": filterAgg(map[string]any{"exists": map[string]any{"field": "actor.id"}}, map[string]any{
			"users": topOf("actor.id", map[string]any{
				"latest":     latestOf("actor.name", "actor.email"),
				"categories": map[string]any{"terms": termsAgg("category", 2*len(searchapi.Categories))},
				"last":       latestTime(),
				"days":       activeDays(period),
			}),
			"user_count": users,
		}),
		"logins": filterAgg(allOf(term("action", "auth.login"), map[string]any{"exists": map[string]any{"field": "actor.id"}}), map[string]any{
			"users": topOf("actor.id", map[string]any{
				"latest": latestOf("actor.name", "actor.email"),
				"days":   activeDays(period),
			}),
			"user_count": users,
		}),
		"categories": map[string]any{"terms": termsAgg("category", 2*len(searchapi.Categories)), "aggs": map[string]any{"users": users}},
		"actions":    map[string]any{"terms": termsAgg("action", searchapi.ReportActions), "aggs": map[string]any{"users": users}},
	}
}

// userAnswer is OpenSearch's answer to the user report's search.
type userAnswer struct {
	reportHead
	Aggregations struct {
		ByUsers struct {
			DocCount int64 `json:"doc_count"`
			Users    termsAnswer[struct {
				countBucket[string]
				Latest     latestHit[struct{ Actor activity.Actor }] `json:"latest"`
				Categories termsAnswer[countBucket[string]]          `json:"categories"`
				Last       value                                     `json:"last"`
				Days       days                                      `json:"days"`
			}] `json:"users"`
			UserCount value `json:"user_count"`
		} `json:"by_users"`
		Logins struct {
			DocCount int64 `json:"doc_count"`
			Users    termsAnswer[struct {
				countBucket[string]
				Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
				Days   days                                      `json:"days"`
			}] `json:"users"`
			UserCount value `json:"user_count"`
		} `json:"logins"`
		Categories termsAnswer[usageBucket] `json:"categories"`
		Actions    termsAnswer[usageBucket] `json:"actions"`
	} `json:"aggregations"`
}

// usageBucket is a terms bucket with the number of distinct users in it.
type usageBucket struct {
	countBucket[string]
	Users value `json:"users"`
}

func (a *userAnswer) report(period searchapi.Period) *searchapi.UserReport {
	agg := a.Aggregations
	r := &searchapi.UserReport{
		ActionsPerUser: searchapi.ActionsPerUser{
			Actions: agg.ByUsers.DocCount, Users: agg.ByUsers.UserCount.count(), Entries: []searchapi.UserUsage{},
		},
		MostActiveUsers: searchapi.MostActiveUsers{Entries: []searchapi.ActiveUser{}},
		FeatureUsage:    searchapi.FeatureUsage{Categories: []searchapi.CategoryUsage{}, Actions: []searchapi.ActionUsage{}},
	}
	r.ActionsPerUser.Average = ratio(float64(r.ActionsPerUser.Actions), float64(r.ActionsPerUser.Users))
	for _, b := range agg.ByUsers.Users.Buckets {
		who := person(b.Latest.source().Actor)
		who.ID = b.Key
		u := searchapi.UserUsage{Person: who, Actions: b.DocCount, Categories: map[string]int64{}}
		for _, c := range searchapi.Categories {
			u.Categories[c] = 0
		}
		for _, c := range b.Categories.Buckets {
			u.Categories[c.Key] = c.DocCount
		}
		r.ActionsPerUser.Entries = append(r.ActionsPerUser.Entries, u)
		if len(r.MostActiveUsers.Entries) < searchapi.ReportMostActive {
			r.MostActiveUsers.Entries = append(r.MostActiveUsers.Entries, searchapi.ActiveUser{
				Person: who, Actions: b.DocCount, Share: roundTenth(100 * float64(b.DocCount) / float64(max(1, agg.ByUsers.DocCount))),
				ActiveDays: int64(len(b.Days.Buckets)), LastAction: b.Last.moment(),
			})
		}
	}

	n := periodDays(period)
	weeks := float64(n) / 7
	lf := &r.LoginFrequency
	lf.Logins, lf.Users, lf.Days = agg.Logins.DocCount, agg.Logins.UserCount.count(), n
	lf.PerDay, lf.PerWeek = ratio(float64(lf.Logins), float64(n)), ratio(float64(lf.Logins), weeks)
	lf.Entries = []searchapi.UserLogin{}
	for _, b := range agg.Logins.Users.Buckets {
		who := person(b.Latest.source().Actor)
		who.ID = b.Key
		lf.Entries = append(lf.Entries, searchapi.UserLogin{
			Person: who, Logins: b.DocCount, LoginDays: int64(len(b.Days.Buckets)),
			PerDay: ratio(float64(b.DocCount), float64(n)), PerWeek: ratio(float64(b.DocCount), weeks),
		})
	}

	for _, b := range agg.Categories.Buckets {
		r.FeatureUsage.Categories = append(r.FeatureUsage.Categories, searchapi.CategoryUsage{Category: b.Key, Count: b.DocCount, Users: b.Users.count()})
	}
	for _, b := range agg.Actions.Buckets {
		r.FeatureUsage.Actions = append(r.FeatureUsage.Actions, searchapi.ActionUsage{
			Action: b.Key, Category: activity.CategoryOf(b.Key), Count: b.DocCount, Users: b.Users.count(),
		})
	}
	return r
}
