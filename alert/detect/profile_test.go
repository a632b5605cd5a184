package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/detect"
	ingestredis "github.com/fluxera/activity/alert/detect/redis"
	"github.com/fluxera/activity/ingest/enrich"
	"github.com/fluxera/activity/ingest/synthetic"
	"github.com/fluxera/activity/internal/stacktest"
)

// profileID is a stable id for the profile's workspaces and members.
func profileID(kind string, w, i int) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "detect-profile/%s/%d/%d", kind, w, i)).String()
}

// TestProfileDetector checks a backlog of synthetic working histories in
// batches of 500, as the detector's Run does (decoding each message
// first), against the real Redis, and reports events per second and the
// CPU-seconds per million events of this process and of Redis. It writes a
// CPU profile to the file FLUXERA_DETECT_PROFILE_OUT names. It runs only
// when FLUXERA_DETECT_PROFILE gives the number of events: it measures, it
// asserts nothing.
func TestProfileDetector(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FLUXERA_DETECT_PROFILE"))
	if n <= 0 {
		t.Skip("set FLUXERA_DETECT_PROFILE to a number of events to profile the detector")
	}
	var events []activity.Event
	until := time.Now().Add(-24 * time.Hour)
	const workspaces = 4
	for w := range workspaces {
		ws := synthetic.Workspace{ID: profileID("workspace", w, 0), TimeZone: "UTC"}
		for i := range 150 {
			ws.Members = append(ws.Members, activity.Actor{ID: profileID("user", w, i), Name: fmt.Sprintf("Member %d", i),
				Email: fmt.Sprintf("member%d@ws%d.example", i, w), Type: activity.ActorUser, Role: activity.RoleMember})
		}
		for i := range 1200 {
			ws.Assets = append(ws.Assets, activity.Resource{Type: "asset", ID: profileID("asset", w, i), Name: fmt.Sprintf("Laptop A-%05d", i)})
		}
		for i := range 12 {
			ws.Licenses = append(ws.Licenses, activity.Resource{Type: "license", ID: profileID("license", w, i), Name: fmt.Sprintf("Licence %d", i)})
		}
		h, err := synthetic.NewHistory(uint64(7<<8|w), ws, 60, until)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, h.Events(n/workspaces+1)...)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].OccurredAt.Before(events[j].OccurredAt) })
	events = events[:n]
	payloads := make([][]byte, n)
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		payloads[i] = b
	}
	events = nil

	configs := staticConfigs{}
	for w := range workspaces {
		configs[profileID("workspace", w, 0)] = alert.WorkspaceConfig{Location: time.UTC, WorkStart: 9 * 60, WorkEnd: 18 * 60,
			WorkingDays: weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), Detection: alert.DefaultDetectionSettings()}
	}
	client, prefix := stacktest.MustRedis(t, "detect-profile")
	var commands commandCounter
	client.AddHook(&commands)
	store := &checkCounter{Store: ingestredis.NewStore(client)}
	d, sink := newDetector(t, store, prefix, configs)
	d.Locator = enrich.Bundled()

	if out := os.Getenv("FLUXERA_DETECT_PROFILE_OUT"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	redis0, cpu0, start := redisCPU(t, client), processCPU(), time.Now()
	const size = 500
	batch := make([]activity.Event, 0, size)
	for i := 0; i < n; i += size {
		batch = batch[:0]
		for _, b := range payloads[i:min(i+size, n)] {
			e, err := activity.DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, e)
		}
		if err := d.Detect(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	took, cpu, redis := time.Since(start), processCPU()-cpu0, redisCPU(t, client)-redis0
	perMillion := func(s float64) float64 { return s / float64(n) * 1e6 }
	t.Logf("%d events in %.1f s: %.0f events/s; detector %.1f CPU-s per million, Redis %.1f CPU-s per million; %d pipelines, %d commands; %d alerts; checks %+v; commands %v",
		n, took.Seconds(), float64(n)/took.Seconds(), perMillion(cpu), perMillion(redis), commands.pipelines, commands.commands, len(sink.alerts()), store.checks, commands.kinds)
}

// commandCounter counts the pipelines and commands a client sends.
type commandCounter struct {
	pipelines, commands int
	kinds               map[string]int
}

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.pipelines++
		c.count(cmd)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.pipelines++
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *commandCounter) count(cmd goredis.Cmder) {
	c.commands++
	if c.kinds == nil {
		c.kinds = map[string]int{}
	}
	c.kinds[strings.ToLower(cmd.Name())]++
}

// processCPU is this process's user and system CPU time in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// redisCPU is the Redis server's user and system CPU time in seconds.
func redisCPU(tb testing.TB, client *goredis.Client) float64 {
	info, err := client.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

// checkCounter counts the checks of each kind a store is given.
type checkCounter struct {
	detect.Store
	checks struct{ Windows, Hours, Locations, Sessions, Claims int }
}

func (c *checkCounter) Check(ctx context.Context, checks detect.Checks) (detect.Results, error) {
	c.checks.Windows += len(checks.Windows)
	c.checks.Hours += len(checks.Hours)
	c.checks.Locations += len(checks.Locations)
	c.checks.Sessions += len(checks.Sessions)
	return c.Store.Check(ctx, checks)
}

func (c *checkCounter) Claim(ctx context.Context, claims []detect.Claim) ([]bool, error) {
	c.checks.Claims += len(claims)
	return c.Store.Claim(ctx, claims)
}
