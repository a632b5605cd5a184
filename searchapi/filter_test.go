package searchapi

import (
	"strconv"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
)

// TestFilterPeriods reads named ranges and dates with a fixed clock in
// Berlin, across both clock changes of 2026: a day of 23 and one of 25
// hours.
func TestFilterPeriods(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name         string
		now          string
		f            EventFilter
		since, until string
		hours        float64
	}{
		{"today on the day clocks go forward", "2026-03-29T12:00:00+02:00", EventFilter{Range: "today"}, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23},
		{"today on the day clocks go back", "2026-10-25T01:30:00+02:00", EventFilter{Range: "today"}, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25},
		{"today just after midnight", "2026-06-01T00:00:01+02:00", EventFilter{Range: "today"}, "2026-05-31T22:00:00Z", "2026-06-01T22:00:00Z", 24},
		{"7d across the spring change", "2026-03-30T10:00:00+02:00", EventFilter{Range: "7d"}, "2026-03-23T23:00:00Z", "2026-03-30T22:00:00Z", 7*24 - 1},
		{"30d", "2026-07-15T09:00:00+02:00", EventFilter{Range: "30d"}, "2026-06-15T22:00:00Z", "2026-07-15T22:00:00Z", 30 * 24},
		{"90d across the autumn change", "2026-12-01T09:00:00+01:00", EventFilter{Range: "90d"}, "2026-09-02T22:00:00Z", "2026-12-01T23:00:00Z", 90*24 + 1},
		{"dates, to inclusive", "2026-12-01T09:00:00Z", EventFilter{From: "2026-10-25", To: "2026-10-25"}, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25},
		{"from alone", "2026-12-01T09:00:00Z", EventFilter{From: "2026-03-29"}, "2026-03-28T23:00:00Z", "", 0},
		{"to alone", "2026-12-01T09:00:00Z", EventFilter{To: "2026-03-29"}, "", "2026-03-29T22:00:00Z", 0},
		{"times", "2026-12-01T09:00:00Z", EventFilter{From: "2026-05-01T10:00:00Z", To: "2026-05-01T12:30:00+02:00"}, "2026-05-01T10:00:00Z", "2026-05-01T10:30:00Z", 0.5},
		{"a + sent unencoded", "2026-12-01T09:00:00Z", EventFilter{From: "2026-05-01T10:00:00 02:00"}, "2026-05-01T08:00:00Z", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.f
			if err := f.Validate(at(tt.now), berlin); err != nil {
				t.Fatal(err)
			}
			check := func(what string, got time.Time, want string) {
				if want == "" {
					if !got.IsZero() {
						t.Errorf("%s = %s, want open", what, got)
					}
					return
				}
				if !got.Equal(at(want)) {
					t.Errorf("%s = %s, want %s", what, got.UTC().Format(time.RFC3339), want)
				}
			}
			check("since", f.Since, tt.since)
			check("until", f.Until, tt.until)
			if tt.hours != 0 {
				if h := f.Until.Sub(f.Since).Hours(); h != tt.hours {
					t.Errorf("period of %v hours, want %v", h, tt.hours)
				}
			}
		})
	}
}

// TestFilterValues checks that values are put in the form events store
// them, repeats dropped.
func TestFilterValues(t *testing.T) {
	f := EventFilter{
		Users:      []string{"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
		Categories: []string{"Auth", "asset"},
		Actions:    []string{"LICENSE.*", "asset.created"},
		Resources:  []string{"asset:0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "License"},
		IPs:        []string{"10.1.2.3/8", "2001:DB8::1"},
		Outcome:    "FAILURE",
	}
	if err := f.Validate(time.Now(), time.UTC); err != nil {
		t.Fatal(err)
	}
	want := EventFilter{
		Users:      []string{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
		Categories: []string{"asset", "auth"},
		Actions:    []string{"asset.created", "license.*"},
		Resources:  []string{"asset:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "license"},
		IPs:        []string{"10.0.0.0/8", "2001:db8::1"},
		Outcome:    "failure",
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"users", f.Users, want.Users}, {"categories", f.Categories, want.Categories}, {"actions", f.Actions, want.Actions},
		{"resources", f.Resources, want.Resources}, {"ips", f.IPs, want.IPs}, {"outcome", f.Outcome, want.Outcome},
		{"limit", f.Limit, DefaultLimit},
	} {
		if g, w := fmtAny(c.got), fmtAny(c.want); g != w {
			t.Errorf("%s = %s, want %s", c.name, g, w)
		}
	}
	g := EventFilter{Users: []string{"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, Categories: []string{"auth", "ASSET"},
		Actions: []string{"license.*", "asset.created"}, Resources: []string{"License", "asset:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
		IPs: []string{"2001:db8::1", "10.0.0.0/8"}, Outcome: "failure", Limit: 10}
	if err := g.Validate(time.Now(), time.UTC); err != nil {
		t.Fatal(err)
	}
	if f.Fingerprint() != g.Fingerprint() {
		t.Error("the same filter written differently has another fingerprint")
	}
	g.Outcome = "success"
	if f.Fingerprint() == g.Fingerprint() {
		t.Error("another filter has the same fingerprint")
	}
}

func fmtAny(v any) string {
	switch v := v.(type) {
	case []string:
		s := "["
		for i, x := range v {
			if i > 0 {
				s += " "
			}
			s += x
		}
		return s + "]"
	case int:
		return strconv.Itoa(v)
	case string:
		return v
	}
	return "?"
}

// TestFilterRefusesBadInput checks that each bad filter answers EINVALID
// on its field, with a message that says what is wrong.
func TestFilterRefusesBadInput(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		f       EventFilter
		field   string
		message string
	}{
		{"bad search", EventFilter{Query: `"open`}, "q", "unterminated quote at position 1"},
		{"user not an id", EventFilter{Users: []string{"jane"}}, "user", `user: "jane" is not a user id`},
		{"empty user", EventFilter{Users: []string{""}}, "user", "user has an empty value"},
		{"unknown category", EventFilter{Categories: []string{"assets"}}, "category", `category must be asset, license, user, auth or system, not "assets"`},
		{"bad action", EventFilter{Actions: []string{"license"}}, "action", `action: "license" is not an action`},
		{"bad resource", EventFilter{Resources: []string{"asset:"}}, "resource", `resource: "asset:" is not a resource type`},
		{"resource id not an id", EventFilter{Resources: []string{"asset:42"}}, "resource", `resource: "42" is not an id`},
		{"bad ip", EventFilter{IPs: []string{"10.0.0.0/33"}}, "ip", `ip: "10.0.0.0/33" is not an address or CIDR range`},
		{"bad outcome", EventFilter{Outcome: "maybe"}, "outcome", `outcome must be success or failure, not "maybe"`},
		{"unknown range", EventFilter{Range: "1y"}, "range", "range must be one of today, 7d, 30d, 90d"},
		{"range and from", EventFilter{Range: "7d", From: "2026-01-01"}, "range", "give either range or from and to, not both"},
		{"bad from", EventFilter{From: "01/02/2026"}, "from", `from must be a date (YYYY-MM-DD) or a time (RFC 3339), not "01/02/2026"`},
		{"impossible date", EventFilter{To: "2026-02-30"}, "to", `to must be a date (YYYY-MM-DD) or a time (RFC 3339), not "2026-02-30"`},
		{"from after to", EventFilter{From: "2026-03-02", To: "2026-03-01"}, "to", "to must be after from"},
		{"limit too large", EventFilter{Limit: 201}, "limit", "limit must be between 1 and 200"},
		{"limit negative", EventFilter{Limit: -1}, "limit", "limit must be between 1 and 200"},
		{"too many users", EventFilter{Users: make([]string, 51)}, "user", "user lists more than 50 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate(now, time.UTC)
			if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field {
				t.Fatalf("error = %v, want EINVALID on %s", err, tt.field)
			}
			if m := activity.ErrorMessage(err); len(m) < len(tt.message) || m[:len(tt.message)] != tt.message {
				t.Errorf("message = %q, want it to begin %q", m, tt.message)
			}
		})
	}
}

// TestFilterInvolving checks the user a user's page is about: an id, in
// the form events store it, and part of the fingerprint.
func TestFilterInvolving(t *testing.T) {
	for _, tc := range []struct {
		involving, want, field string
	}{
		{"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", ""},
		{"bob", "", "user"},
	} {
		t.Run(tc.involving, func(t *testing.T) {
			f := EventFilter{Involving: tc.involving}
			err := f.Validate(time.Now(), time.UTC)
			if tc.field != "" {
				if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tc.field {
					t.Fatalf("error %v, want EINVALID on %s", err, tc.field)
				}
				return
			}
			if err != nil || f.Involving != tc.want {
				t.Fatalf("involving %q, %v", f.Involving, err)
			}
			other := EventFilter{Actor: tc.want}
			if err := other.Validate(time.Now(), time.UTC); err != nil {
				t.Fatal(err)
			}
			if f.Fingerprint() == other.Fingerprint() {
				t.Error("a user's page and their own actions share a fingerprint")
			}
		})
	}
}
