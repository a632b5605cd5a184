package opensearch

import (
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi"
)

// permissionActions are the changes of what a member may do that the
// security report lists.
var permissionActions = []string{"user.role_changed", "user.activated", "user.deactivated"}

// securityAggs counts login attempts per day and successful logins by day
// of week and hour, ranks failed logins by account and address, and lists
// the newest permission changes.
func securityAggs(period searchapi.Period) map[string]any {
	failed := term("action", "auth.login_failed")
	perDay := activeDays(period)
	perDay["aggs"] = map[string]any{"failed": filterAgg(failed, nil)}
	return map[string]any{
		"attempts": filterAgg(terms("action", []string{"auth.login", "auth.login_failed"}), map[string]any{
			"days":       perDay,
			"successful": filterAgg(term("action", "auth.login"), heatmapAggs()),
			"failed":     filterAgg(failed, nil),
		}),
		"failures": filterAgg(failed, map[string]any{
			"accounts": topOf("actor.id", map[string]any{
				"latest": latestOf("actor.name", "actor.email"),
				"last":   latestTime(),
			}),
			"account_count": countOf("actor.id"),
			"addresses": topOf("context.ip", map[string]any{
				"accounts": countOf("actor.id"),
				"last":     latestTime(),
			}),
			"address_count": countOf("context.ip"),
		}),
		"permissions": filterAgg(succeeded(permissionActions...), map[string]any{
			"actions": map[string]any{"terms": termsAgg("action", 2*len(permissionActions))},
			"latest":  newest("occurred_at", "action", "resource.id", "resource.name", "actor.id", "actor.name", "actor.email", "changes"),
		}),
	}
}

// securityAnswer is OpenSearch's answer to the security report's search.
type securityAnswer struct {
	reportHead
	Aggregations struct {
		Attempts struct {
			Days termsAnswer[struct {
				countBucket[int64]
				Failed docCount `json:"failed"`
			}] `json:"days"`
			Successful struct {
				DocCount int64 `json:"doc_count"`
				heatmapDays
			} `json:"successful"`
			Failed docCount `json:"failed"`
		} `json:"attempts"`
		Failures struct {
			DocCount int64 `json:"doc_count"`
			Accounts termsAnswer[struct {
				countBucket[string]
				Latest latestHit[struct{ Actor activity.Actor }] `json:"latest"`
				Last   value                                     `json:"last"`
			}] `json:"accounts"`
			AccountCount value `json:"account_count"`
			Addresses    termsAnswer[struct {
				countBucket[string]
				Accounts value `json:"accounts"`
				Last     value `json:"last"`
			}] `json:"addresses"`
			AddressCount value `json:"address_count"`
		} `json:"failures"`
		Permissions struct {
			DocCount int64                            `json:"doc_count"`
			Actions  termsAnswer[countBucket[string]] `json:"actions"`
			Latest   latestHit[activity.Event]        `json:"latest"`
		} `json:"permissions"`
	} `json:"aggregations"`
}

// heatmapDays is the answer of heatmapAggs.
type heatmapDays struct {
	Days termsAnswer[struct {
		Key   int                           `json:"key"`
		Hours termsAnswer[countBucket[int]] `json:"hours"`
	}] `json:"days"`
}

func (h heatmapDays) counts() [7][24]int64 {
	var out [7][24]int64
	for _, d := range h.Days.Buckets {
		for _, hr := range d.Hours.Buckets {
			if d.Key >= 1 && d.Key <= 7 && hr.Key >= 0 && hr.Key <= 23 {
				out[d.Key-1][hr.Key] = hr.DocCount
			}
		}
	}
	return out
}

func (a *securityAnswer) report(period searchapi.Period) *searchapi.SecurityReport {
	agg := a.Aggregations
	r := &searchapi.SecurityReport{
		LoginAttempts: searchapi.LoginAttempts{
			Successful: agg.Attempts.Successful.DocCount, Failed: agg.Attempts.Failed.DocCount,
			Days: []searchapi.LoginDay{}, Times: agg.Attempts.Successful.counts(),
		},
		FailedAuth: searchapi.FailedAuthentications{
			Failed: agg.Failures.DocCount, Accounts: agg.Failures.AccountCount.count(), Addresses: agg.Failures.AddressCount.count(),
			ByAccount: []searchapi.FailedAccount{}, ByAddress: []searchapi.FailedAddress{},
		},
		PermissionChanges: searchapi.PermissionChanges{Changes: agg.Permissions.DocCount, Entries: []searchapi.PermissionChange{}},
	}
	for _, b := range agg.Attempts.Days.Buckets {
		r.LoginAttempts.Days = append(r.LoginAttempts.Days, searchapi.LoginDay{
			Day: time.UnixMilli(b.Key).In(period.Location).Format(time.DateOnly), Successful: b.DocCount - b.Failed.DocCount, Failed: b.Failed.DocCount,
		})
	}
	for _, b := range agg.Failures.Accounts.Buckets {
		who := person(b.Latest.source().Actor)
		who.ID = b.Key
		r.FailedAuth.ByAccount = append(r.FailedAuth.ByAccount, searchapi.FailedAccount{Person: who, Failed: b.DocCount, Last: b.Last.moment()})
	}
	for _, b := range agg.Failures.Addresses.Buckets {
		r.FailedAuth.ByAddress = append(r.FailedAuth.ByAddress, searchapi.FailedAddress{IP: b.Key, Failed: b.DocCount, Accounts: b.Accounts.count(), Last: b.Last.moment()})
	}
	pc := &r.PermissionChanges
	for _, b := range agg.Permissions.Actions.Buckets {
		switch b.Key {
		case "user.role_changed":
			pc.RoleChanges = b.DocCount
		case "user.activated":
			pc.Activations = b.DocCount
		case "user.deactivated":
			pc.Deactivations = b.DocCount
		}
	}
	for _, e := range agg.Permissions.Latest.sources() {
		c := searchapi.PermissionChange{At: e.OccurredAt.UTC(), Action: e.Action, User: thing(e.Resource), By: person(e.Actor)}
		for _, ch := range e.Changes {
			if ch.Field == "role" {
				c.From, c.To = ch.Before, ch.After
			}
		}
		pc.Entries = append(pc.Entries, c)
	}
	return r
}
