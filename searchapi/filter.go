package searchapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/searchapi/query"
)

// MaxFilterValues is the most values one kind of filter may list.
const MaxFilterValues = 50

// idPattern is an id as the platform makes them.
var idPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsID reports whether s is an id as the platform makes them.
func IsID(s string) bool { return idPattern.MatchString(s) }

// Validate checks every filter, puts its values in the form events store
// them, parses the search and reads the period as of now in loc, and fills
// in the default limit. It returns EINVALID naming the bad field and
// saying what is wrong: q, user, category, action, range, from, to,
// resource, ip, outcome or limit.
func (f *EventFilter) Validate(now time.Time, loc *time.Location) error {
	search, err := query.Parse(f.Query)
	if err != nil {
		var e *query.Error
		if errors.As(err, &e) {
			return activity.Errorf(activity.EINVALID, "q", "%s", e.Message)
		}
		return err
	}
	f.Search = search
	if f.Users, err = values("user", f.Users, func(v string) (string, error) {
		if !IsID(v) {
			return "", activity.Errorf(activity.EINVALID, "user", "user: %q is not a user id", v)
		}
		return strings.ToLower(v), nil
	}); err != nil {
		return err
	}
	for _, kind := range []struct {
		field, qualifier string
		values           *[]string
	}{
		{"category", query.Category, &f.Categories},
		{"action", query.Action, &f.Actions},
		{"resource", query.Resource, &f.Resources},
		{"ip", query.IP, &f.IPs},
	} {
		if *kind.values, err = values(kind.field, *kind.values, normalizer(kind.field, kind.qualifier)); err != nil {
			return err
		}
	}
	for i, r := range f.Resources {
		if typ, id, ok := strings.Cut(r, ":"); ok {
			if !IsID(id) {
				return activity.Errorf(activity.EINVALID, "resource", "resource: %q is not an id", id)
			}
			f.Resources[i] = typ + ":" + strings.ToLower(id)
		}
	}
	if f.Involving != "" {
		if !IsID(f.Involving) {
			return activity.Errorf(activity.EINVALID, "user", "user: %q is not a user id", f.Involving)
		}
		f.Involving = strings.ToLower(f.Involving)
	}
	if f.Outcome != "" {
		if f.Outcome, err = normalizer("outcome", query.Outcome)(f.Outcome); err != nil {
			return err
		}
	}
	if err := f.readPeriod(now, loc); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		return activity.Errorf(activity.EINVALID, "limit", "limit must be between 1 and %d", MaxLimit)
	}
	return nil
}

// values checks and normalizes every value of one kind of filter, drops
// repeats and sorts them.
func values(field string, in []string, check func(string) (string, error)) ([]string, error) {
	if len(in) > MaxFilterValues {
		return nil, activity.Errorf(activity.EINVALID, field, "%s lists more than %d values", field, MaxFilterValues)
	}
	out := make([]string, 0, len(in))
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, activity.Errorf(activity.EINVALID, field, "%s has an empty value", field)
		}
		n, err := check(v)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// normalizer checks a value as the search syntax checks its qualifier.
func normalizer(field, qualifier string) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := query.Normalize(qualifier, v)
		if err != nil {
			return "", activity.Errorf(activity.EINVALID, field, "%s", err.Error())
		}
		return n, nil
	}
}

// readPeriod reads Range, or From and To, into Since and Until.
func (f *EventFilter) readPeriod(now time.Time, loc *time.Location) error {
	f.Since, f.Until = time.Time{}, time.Time{}
	if f.Range != "" {
		p, err := ResolvePeriod(PeriodQuery{Range: f.Range, From: f.From, To: f.To}, now, loc)
		if err != nil {
			return err
		}
		f.Since, f.Until = p.From, p.To
		return nil
	}
	if f.From != "" {
		t, ok := parseMoment(f.From, loc, false)
		if !ok {
			return activity.Errorf(activity.EINVALID, "from", "from must be a date (YYYY-MM-DD) or a time (RFC 3339), not %q", f.From)
		}
		f.Since = t.In(loc)
	}
	if f.To != "" {
		t, ok := parseMoment(f.To, loc, true)
		if !ok {
			return activity.Errorf(activity.EINVALID, "to", "to must be a date (YYYY-MM-DD) or a time (RFC 3339), not %q", f.To)
		}
		f.Until = t.In(loc)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return activity.Errorf(activity.EINVALID, "to", "to must be after from")
	}
	return nil
}

// Fingerprint names what the validated filter selects, whatever the order
// or spelling its values were given in; a cursor carries it so that it
// continues only the listing it was issued for. The page size, the facets
// and the cursor itself are not part of it.
func (f *EventFilter) Fingerprint() string {
	subject := ""
	if f.Subject != nil {
		subject = f.Subject.Type + ":" + f.Subject.ID
	}
	b, _ := json.Marshal([]any{
		f.Search.String(), f.Users, f.Categories, f.Actions, f.Range, f.From, f.To,
		f.Resources, f.IPs, f.Outcome, f.Actor, subject, f.Involving,
	})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
