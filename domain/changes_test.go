package domain_test

import (
	"reflect"
	"testing"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

type item struct {
	ID      string       `json:"id" audit:"-"`
	Name    string       `json:"name"`
	Count   int          `json:"count"`
	Bought  *domain.Date `json:"bought"`
	Key     string       `json:"key" audit:"secret"`
	Enabled bool         `json:"enabled"`
}

func TestChanges(t *testing.T) {
	day, _ := domain.ParseDate("2026-03-01")
	tests := []struct {
		name          string
		before, after item
		want          []activity.Change
	}{
		{name: "nothing changed", before: item{Name: "a"}, after: item{Name: "a"}},
		{name: "ignored field", before: item{ID: "1"}, after: item{ID: "2"}},
		{
			name:   "creation lists set fields",
			before: item{}, after: item{Name: "Laptop", Count: 2, Bought: &day},
			want: []activity.Change{{Field: "name", After: "Laptop"}, {Field: "count", Before: "0", After: "2"}, {Field: "bought", After: "2026-03-01"}},
		},
		{
			name:   "edit shows before and after",
			before: item{Name: "Laptop", Enabled: true}, after: item{Name: "Laptop 2", Enabled: false},
			want: []activity.Change{{Field: "name", Before: "Laptop", After: "Laptop 2"}, {Field: "enabled", Before: "true", After: "false"}},
		},
		{
			name:   "secret is redacted",
			before: item{Key: "AAAA-BBBB"}, after: item{Key: "CCCC-DDDD"},
			want: []activity.Change{{Field: "key", Redacted: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := domain.Changes(tt.before, tt.after)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Changes() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
