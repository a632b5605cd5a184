package searchapi

import (
	"context"
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// AsOf is a resource's fields as they were at one moment, rebuilt from the
// changes its recorded entries carry, and the entries it rests on.
type AsOf struct {
	Resource activity.Resource `json:"resource"`
	// Time is the moment asked for.
	Time time.Time `json:"time"`
	// Fields are the resource's fields at Time, each as its entries record
	// it (a date as YYYY-MM-DD, a user by name); a field never set is
	// absent, and a redacted one (a license's key) reads "redacted".
	Fields map[string]string `json:"fields"`
	// Deleted is true when the resource had been deleted by Time.
	Deleted bool `json:"deleted"`
	// Entries are the entries the fields rest on, in publication order,
	// from the one that created the resource.
	Entries []AsOfEntry `json:"entries"`
}

// AsOfEntry is one entry an as-of view rests on.
type AsOfEntry struct {
	ID         string    `json:"id"`
	Seq        int64     `json:"seq,omitempty"`
	Action     string    `json:"action"`
	OccurredAt time.Time `json:"occurred_at"`
}

// asOfCreations are the actions that create a resource of each type, and
// whether the resource is the entry's related resource rather than its
// own (an accepted invitation creates its user).
var asOfCreations = map[string]bool{
	"asset.created":       false,
	"license.created":     false,
	"user.created":        false,
	"invitation.accepted": true,
}

// asOfDeletions are the actions after which a resource no longer exists.
var asOfDeletions = []string{"asset.deleted", "license.deleted", "user.deleted"}

// RebuildAsOf rebuilds the fields of res at t from entries, any of the
// entries whose resource or related resource res is, in any order. The
// entries are put in publication order (chain.seq where both have one,
// else occurred_at, then id); those that occurred after t play no part,
// nor do failed ones, and the first that creates res starts the rebuild.
// It returns ENOTFOUND when no entry created res by t.
func RebuildAsOf(res activity.Resource, t time.Time, entries []activity.Event) (AsOf, error) {
	var own []activity.Event
	for _, e := range entries {
		if e.OccurredAt.After(t) || e.Outcome == activity.OutcomeFailure {
			continue
		}
		if isResource(e.Resource, res) {
			own = append(own, e)
			continue
		}
		if related, ok := asOfCreations[e.Action]; ok && related && slices.ContainsFunc(e.Related, func(r activity.Resource) bool { return isResource(r, res) }) {
			own = append(own, e)
		}
	}
	slices.SortStableFunc(own, publicationOrder)
	start := slices.IndexFunc(own, func(e activity.Event) bool { _, ok := asOfCreations[e.Action]; return ok })
	if start < 0 {
		return AsOf{}, activity.Errorf(activity.ENOTFOUND, "", "no recorded entry shows that %s %s existed at %s: it was created later, or its creation is not in the log", res.Type, res.ID, t.UTC().Format(time.RFC3339))
	}
	v := AsOf{Resource: activity.Resource{Type: res.Type, ID: res.ID}, Time: t, Fields: map[string]string{}, Entries: []AsOfEntry{}}
	for _, e := range own[start:] {
		for _, c := range e.Changes {
			switch {
			case c.Redacted:
				v.Fields[c.Field] = "redacted"
			case c.After == "":
				delete(v.Fields, c.Field)
			default:
				v.Fields[c.Field] = c.After
			}
		}
		v.Deleted = slices.Contains(asOfDeletions, e.Action)
		if n := e.Resource.Name; n != "" && isResource(e.Resource, res) && !v.Deleted {
			v.Resource.Name = n
		}
		ref := AsOfEntry{ID: e.ID, Action: e.Action, OccurredAt: e.OccurredAt}
		if e.Chain != nil {
			ref.Seq = e.Chain.Seq
		}
		v.Entries = append(v.Entries, ref)
	}
	if v.Deleted {
		// A deletion's changes empty every field; what was deleted is
		// in the entries before it.
		v.Fields = map[string]string{}
	}
	return v, nil
}

// publicationOrder orders two entries as they were published: by their
// chain's sequence number when both have one, else by when they occurred.
func publicationOrder(a, b activity.Event) int {
	if a.Chain != nil && b.Chain != nil {
		if a.Chain.Seq < b.Chain.Seq {
			return -1
		}
		if a.Chain.Seq > b.Chain.Seq {
			return 1
		}
	}
	if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func isResource(r, want activity.Resource) bool {
	return r.Type == want.Type && strings.EqualFold(r.ID, want.ID)
}

// ResourceAsOf reads every entry about res that p may see through s and
// rebuilds its fields at t. It returns ENOTFOUND when no entry created res
// by t, and the errors of ScanEvents.
func ResourceAsOf(ctx context.Context, s Scanner, p activity.Principal, res activity.Resource, t time.Time) (AsOf, error) {
	// The filter's end is excluded, and entries are kept to the
	// millisecond: an entry at t itself is read, and put aside by
	// RebuildAsOf if it came later within that millisecond.
	f := EventFilter{Subject: &res}
	if end := t.Add(time.Millisecond).UTC(); end.Year() <= 9999 {
		f.To = end.Format(time.RFC3339Nano)
	}
	var entries []activity.Event
	if _, err := s.ScanEvents(ctx, p, f, func(e Entry) error {
		entries = append(entries, e.Event)
		return nil
	}); err != nil {
		return AsOf{}, err
	}
	return RebuildAsOf(res, t, entries)
}
