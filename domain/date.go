package domain

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	activity "github.com/fluxera/activity"
)

// Date is a calendar day without a time of day, written as YYYY-MM-DD.
type Date struct{ time.Time }

const dateLayout = "2006-01-02"

// ParseDate parses YYYY-MM-DD, a day of the years 1 to 9999. Anything
// else, year 0 included (which the calendar, and PostgreSQL's date column,
// do not have), is an EINVALID error.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, activity.Errorf(activity.EINVALID, "", "%q is not a date of the form YYYY-MM-DD", s)
	}
	if t.Year() < 1 {
		return Date{}, activity.Errorf(activity.EINVALID, "", "%q is not a date: years start at 0001", s)
	}
	return Date{t}, nil
}

func (d Date) String() string { return d.Format(dateLayout) }

// MarshalJSON writes the date as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return activity.Errorf(activity.EINVALID, "", "a date must be a string of the form YYYY-MM-DD")
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Value stores the date in a SQL date column.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a SQL date column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Time = v
		return nil
	case string:
		p, err := ParseDate(v[:min(len(v), 10)])
		*d = p
		return err
	case []byte:
		p, err := ParseDate(string(v[:min(len(v), 10)]))
		*d = p
		return err
	}
	return fmt.Errorf("scan date from %T", src)
}
