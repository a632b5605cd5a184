package searchapi

import (
	"reflect"
	"testing"
	"time"
)

func TestSessionActivity(t *testing.T) {
	const m = int64(time.Minute / time.Millisecond)
	at := func(first, last int64) ActiveBucket { return ActiveBucket{First: first, Last: last} }
	out := func(first, logout int64) ActiveBucket {
		return ActiveBucket{First: first, Last: logout, Logout: logout, HasLogout: true}
	}
	tests := []struct {
		name    string
		buckets []ActiveBucket
		want    []ActiveInterval
	}{
		{"one action", []ActiveBucket{at(0, 0)}, []ActiveInterval{{0, 30 * m}}},
		{"actions within the idle time chain", []ActiveBucket{at(0, 10), at(20*m, 20*m+5)}, []ActiveInterval{{0, 50*m + 5}}},
		{"a gap longer than the idle time splits", []ActiveBucket{at(0, 0), at(31*m, 31*m)}, []ActiveInterval{{0, 30 * m}, {31 * m, 61 * m}}},
		{"a logout cuts the idle time", []ActiveBucket{at(0, 0), out(10*m, 10*m)}, []ActiveInterval{{0, 10 * m}}},
		{"a logout after the idle time cuts nothing", []ActiveBucket{at(0, 0), out(40*m, 40*m)}, []ActiveInterval{{0, 30 * m}}},
		{"actions after the logout do not count", []ActiveBucket{out(5, 10), at(2*m, 3*m)}, []ActiveInterval{{5, 10}}},
		{"actions in the logout's bucket count up to it", []ActiveBucket{at(0, 0), out(40*m, 40*m+30_000)}, []ActiveInterval{{0, 30 * m}, {40 * m, 40*m + 30_000}}},
		{"a logout alone", []ActiveBucket{out(7, 7)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SessionActivity(tt.buckets, 30*time.Minute); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnionNeverExceedsTheClock(t *testing.T) {
	const h = int64(time.Hour / time.Millisecond)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, berlin).UnixMilli()
	// Ten sessions of one user over the same afternoon, one across
	// midnight and past the period's end.
	var ivs []ActiveInterval
	for i := range int64(10) {
		ivs = append(ivs, ActiveInterval{day + 12*h + i*h/10, day + 15*h + i*h/10})
	}
	ivs = append(ivs, ActiveInterval{day + 23*h, day + 50*h})
	union := UnionOf(ivs, day, day+48*h)
	want := []ActiveInterval{{day + 12*h, day + 15*h + 9*h/10}, {day + 23*h, day + 48*h}}
	if !reflect.DeepEqual(union, want) {
		t.Fatalf("union %v, want %v", union, want)
	}
	days := ByDay(union, berlin)
	if days["2026-03-02"] != 3*h+9*h/10+h || days["2026-03-03"] != 24*h || Length(union) != days["2026-03-02"]+days["2026-03-03"] {
		t.Errorf("by day %v", days)
	}
}
