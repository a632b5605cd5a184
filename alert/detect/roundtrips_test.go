package detect_test

import (
	"fmt"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/internal/stacktest"
)

// TestABatchCostsRedisAFewCommands checks one batch of several hundred
// events of every kind (successful work in sessions from located
// addresses, failed logins, exports, logouts) and counts what reaches
// Redis: one pipeline for the checks and one for the cooldown claims, and
// in them one script call per kind of check and workspace, however many
// events the batch holds.
func TestABatchCostsRedisAFewCommands(t *testing.T) {
	tests := []struct {
		name         string
		workspaces   int
		wantCommands int
	}{
		{"one workspace", 1, 5},
		{"three workspaces", 3, 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, prefix := stacktest.MustRedis(t, "detect-roundtrips")
			configs := staticConfigs{}
			var events []activity.Event
			start := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC) // a Monday
			for w := range tc.workspaces {
				ws := activity.NewEventID()
				configs[ws] = alwaysWorking()
				for u := range 20 {
					who := person(fmt.Sprintf("Member %d %d", w, u))
					session := inSession(activity.NewEventID())
					ip := fromIP(fmt.Sprintf("198.51.100.%d", 10+u))
					at := start.Add(time.Duration(u) * time.Second)
					for i := range 10 {
						events = append(events, event(ws, "asset.updated", who, at.Add(time.Duration(i)*time.Minute), session, ip, locatedAt("DE", "Berlin", "Example Telecom")))
					}
					events = append(events, failedLogin(ws, who, "203.0.113.7", at.Add(11*time.Minute)))
					events = append(events, event(ws, "export.created", who, at.Add(12*time.Minute), session, ip))
					events = append(events, event(ws, "auth.logout", who, at.Add(13*time.Minute), session, ip))
				}
			}
			d, _ := newDetector(t, ingestredis.NewStore(client), prefix, configs)
			// A first event connects and loads the scripts before counting.
			MustDetect(t, d, 1, []activity.Event{event(activity.NewEventID(), "asset.updated", person("Warm Up"), start, inSession("s"))})
			var counter commandCounter
			client.AddHook(&counter)
			MustDetect(t, d, len(events), events)
			if counter.pipelines > 2 {
				t.Errorf("a batch of %d events took %d round trips to Redis, want at most 2", len(events), counter.pipelines)
			}
			if counter.commands > tc.wantCommands {
				t.Errorf("a batch of %d events sent %d commands to Redis (%v), want at most %d", len(events), counter.commands, counter.kinds, tc.wantCommands)
			}
		})
	}
}
