package domain_test

import (
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// TestParseDate checks which days a date field takes: YYYY-MM-DD days of
// the years 1 to 9999, which PostgreSQL's date column holds; anything else
// is refused as invalid input rather than failing when it is stored.
func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2026-03-01", true},
		{"0001-01-01", true},
		{"9999-12-31", true},
		{"0000-03-06", false}, // there is no year 0: 1 BC is followed by AD 1
		{"0000-01-01", false},
		{"2026-02-30", false},
		{"2026-3-1", false},
		{"", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, err := domain.ParseDate(tc.in)
			if tc.ok && (err != nil || d.String() != tc.in) {
				t.Errorf("ParseDate(%q) = %v, %v; want the day", tc.in, d, err)
			}
			if !tc.ok && activity.ErrorCode(err) != activity.EINVALID {
				t.Errorf("ParseDate(%q) = %v, %v; want an invalid input error", tc.in, d, err)
			}
		})
	}
}
