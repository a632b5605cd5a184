package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fluxera/activity/alert/detect"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestCountsBelowTheirThresholdListNothing counts events in a window and
// sessions of a user, each in one batch: below the count the check lists
// from, the answer is the count alone; from it on, the latest ids and
// sessions come with it, oldest first.
func TestCountsBelowTheirThresholdListNothing(t *testing.T) {
	client, prefix := stacktest.MustRedis(t, "detect-store")
	store := NewStore(client)
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	var checks detect.Checks
	for i := range 4 {
		checks.Windows = append(checks.Windows, detect.WindowCheck{Key: prefix + "{ws}:w", EventID: fmt.Sprintf("e-%d", i),
			At: at.Add(time.Duration(i) * time.Second), Window: time.Minute, Keep: time.Hour, Last: 20, ListFrom: 3})
		checks.Sessions = append(checks.Sessions, detect.SessionCheck{Key: prefix + "{ws}:s", SessionID: fmt.Sprintf("s-%d", i), EventID: fmt.Sprintf("e-%d", i),
			IP: "198.51.100.1", At: at.Add(time.Duration(i) * time.Second), Window: time.Minute, Keep: time.Hour, Last: 20, ListFrom: 3})
	}
	res, err := store.Check(context.Background(), checks)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := [][]string{nil, nil, {"e-0", "e-1", "e-2"}, {"e-0", "e-1", "e-2", "e-3"}}
	for i, r := range res.Windows {
		if r.Count != int64(i+1) || fmt.Sprint(r.EventIDs) != fmt.Sprint(wantIDs[i]) {
			t.Errorf("window check %d: count %d, ids %v; want %d, %v", i, r.Count, r.EventIDs, i+1, wantIDs[i])
		}
	}
	for i, r := range res.Sessions {
		var got []string
		for _, s := range r.Sessions {
			got = append(got, s.EventID)
		}
		if r.Count != int64(i+1) || fmt.Sprint(got) != fmt.Sprint(wantIDs[i]) {
			t.Errorf("session check %d: count %d, events %v; want %d, %v", i, r.Count, got, i+1, wantIDs[i])
		}
	}
}

// TestSessionsEndedAndSeenAgainInOneBatchStillExpire ends a user's only
// session and starts another in the same batch: the sessions' keys, gone
// for a moment, still expire when idle.
func TestSessionsEndedAndSeenAgainInOneBatchStillExpire(t *testing.T) {
	client, prefix := stacktest.MustRedis(t, "detect-store")
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	key := prefix + "{ws}:s"
	check := func(session string, end bool, at time.Time) detect.SessionCheck {
		return detect.SessionCheck{Key: key, SessionID: session, EventID: session + "-event", At: at, End: end, Window: time.Minute, Keep: time.Hour, Last: 20, ListFrom: 3}
	}
	checks := detect.Checks{Sessions: []detect.SessionCheck{check("s-1", false, at), check("s-1", true, at.Add(time.Second)), check("s-2", false, at.Add(2*time.Second))}}
	if _, err := NewStore(client).Check(context.Background(), checks); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, key + ":events"} {
		ttl, err := client.PTTL(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 {
			t.Errorf("%s has time to live %v, want it to expire", k, ttl)
		}
	}
}
