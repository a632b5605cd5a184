package searchapi

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
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

// TestActiveTimeEqualsSessionActivity reads random sessions' buckets in
// stretches of time cut at random, and checks each user's sessions and
// union against SessionActivity and UnionOf over each session at once.
func TestActiveTimeEqualsSessionActivity(t *testing.T) {
	const idle = 30 * time.Minute
	slot := idle.Milliseconds()
	for seed := range uint64(200) {
		rnd := rand.New(rand.NewPCG(seed, 7))
		type session struct {
			user, id string
			buckets  []ActiveBucket
		}
		var sessions []session
		for u := range 1 + rnd.IntN(3) {
			for s := range 1 + rnd.IntN(4) {
				ss := session{user: fmt.Sprint("u", u), id: fmt.Sprint("s", u, s)}
				at := rnd.Int64N(20) * slot
				logout := rnd.IntN(3) == 0
				for range 1 + rnd.IntN(8) {
					first := at + rnd.Int64N(slot)
					b := ActiveBucket{User: ss.user, Session: ss.id, First: first, Last: first + rnd.Int64N(at+slot-first)}
					ss.buckets = append(ss.buckets, b)
					at += slot * (1 + rnd.Int64N(2))
				}
				if logout { // in a random bucket, perhaps with actions after it
					i := rnd.IntN(len(ss.buckets))
					b := &ss.buckets[i]
					b.HasLogout, b.Logout = true, b.First+rnd.Int64N(b.Last-b.First+1)
				}
				sessions = append(sessions, ss)
			}
		}
		from, to := int64(0), 40*slot
		want := map[string][]ActiveInterval{}
		wantSessions := map[string]int64{}
		for _, s := range sessions {
			want[s.user] = append(want[s.user], SessionActivity(s.buckets, idle)...)
			wantSessions[s.user]++
		}
		// Stretches cut at random slots, each read in any order of
		// sessions, every session's buckets oldest first.
		a := NewActiveTime(idle, from, to)
		for start := int64(0); start < 60*slot; {
			end := start + slot*(1+rnd.Int64N(6))
			var in []ActiveBucket
			for _, s := range sessions {
				for _, b := range s.buckets {
					if b.First >= start && b.First < end {
						in = append(in, b)
					}
				}
			}
			rnd.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
			bySession := map[string][]ActiveBucket{}
			var order []string
			for _, b := range in {
				if bySession[b.Session] == nil {
					order = append(order, b.Session)
				}
				bySession[b.Session] = append(bySession[b.Session], b)
			}
			for _, s := range order {
				bs := bySession[s]
				sort.Slice(bs, func(i, j int) bool { return bs[i].First < bs[j].First })
				for _, b := range bs {
					a.Add(b)
				}
			}
			a.Until(end)
			start = end
		}
		got := a.Users()
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d users, want %d", seed, len(got), len(want))
		}
		for _, u := range got {
			if w := UnionOf(want[u.ID], from, to); !reflect.DeepEqual(u.Union, w) && (len(u.Union) > 0 || len(w) > 0) {
				t.Errorf("seed %d: %s: %v, want %v", seed, u.ID, u.Union, w)
			}
			if u.Sessions != wantSessions[u.ID] {
				t.Errorf("seed %d: %s: %d sessions, want %d", seed, u.ID, u.Sessions, wantSessions[u.ID])
			}
		}
	}
}

func TestActiveTimeAcrossStretches(t *testing.T) {
	const idle = 30 * time.Minute
	m := int64(time.Minute / time.Millisecond)
	b := func(first, last int64) ActiveBucket {
		return ActiveBucket{User: "u", Session: "s", First: first, Last: last}
	}
	out := func(first, logout int64) ActiveBucket {
		return ActiveBucket{User: "u", Session: "s", First: first, Last: logout, Logout: logout, HasLogout: true}
	}
	tests := []struct {
		name      string
		stretches [][]ActiveBucket // each stretch 60 minutes long
		want      []ActiveInterval
	}{
		{"activity ending where the next stretch starts chains into it", [][]ActiveBucket{{b(0, 30*m)}, {b(60*m, 60*m)}}, []ActiveInterval{{0, 90 * m}}},
		{"a gap just longer than the idle time across the cut splits", [][]ActiveBucket{{b(0, 29*m)}, {b(60*m, 60*m)}}, []ActiveInterval{{0, 59 * m}, {60 * m, 90 * m}}},
		{"a logout in the next stretch ends the session", [][]ActiveBucket{{b(0, 50*m)}, {out(65*m, 70*m)}}, []ActiveInterval{{0, 70 * m}}},
		{"actions in a stretch after the logout do not count", [][]ActiveBucket{{out(0, 10*m)}, {b(70*m, 80*m)}}, []ActiveInterval{{0, 10 * m}}},
		{"a session idle through a whole stretch", [][]ActiveBucket{{b(0, 0)}, nil, {b(130*m, 130*m)}}, []ActiveInterval{{0, 30 * m}, {130 * m, 160 * m}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewActiveTime(idle, 0, 1000*m)
			for i, stretch := range tt.stretches {
				for _, bk := range stretch {
					a.Add(bk)
				}
				a.Until(int64(i+1) * 60 * m)
			}
			users := a.Users()
			if len(users) != 1 || users[0].Sessions != 1 || !reflect.DeepEqual(users[0].Union, tt.want) {
				t.Errorf("got %+v, want one session active %v", users, tt.want)
			}
		})
	}
}
