package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/alert/notify"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/keybox"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	ingestos "github.com/fluxera/activity/ingest/opensearch"
	"github.com/fluxera/activity/internal/stacktest"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/report/schedule"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// clock is a settable clock, shared by the schedulers and the database of
// a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(s string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	c.t = t
	return t
}

// rig is what the schedulers of a test share: one schema, reached through
// a pool per scheduler as separate processes reach it, an index prefix of
// the test's own (with nothing indexed), an archive folder, a clock, and
// a Berlin workspace's owner.
type rig struct {
	dbs     []*postgres.DB
	clock   *clock
	owner   activity.Principal
	box     *keybox.Box
	archive disk.Archive
	finder  *searchos.Finder
}

func mustRig(t *testing.T, processes int) *rig {
	t.Helper()
	url := stacktest.OpenSearchURL()
	stacktest.MustReach(t, "OpenSearch", stacktest.HostPort(url))
	cfg := ingestos.Config{URLs: []string{url}, IndexPrefix: "test-schedule-" + stacktest.RandomID()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := ingestos.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{
		dbs: postgrestest.MustDBs(t, processes), clock: &clock{}, box: postgrestest.MustKeyBox(t),
		archive: disk.Archive{Dir: t.TempDir()}, finder: searchos.NewFinder(client, cfg.IndexPrefix),
	}
	r.clock.Set("2026-03-01T00:00:00Z")
	for _, db := range r.dbs {
		db.Now = r.clock.Now
	}
	email, _ := postgrestest.MustWorkspace(t, r.dbs[0], argon2.Hasher{Params: postgrestest.Argon2}, "Schedules")
	r.owner = postgrestest.MustPrincipal(t, r.dbs[0], email)
	return r
}

// definitions is the definition service of one process.
func (r *rig) definitions(db *postgres.DB) *report.Definitions {
	return report.NewDefinitions(postgres.NewReportDefinitionStore(db), nil, r.finder, r.archive).WithClock(r.clock.Now)
}

// scheduler is the scheduler of one process.
func (r *rig) scheduler(db *postgres.DB) *schedule.Scheduler {
	log := logrus.New()
	log.SetOutput(io.Discard)
	store := postgres.NewReportDefinitionStore(db)
	return &schedule.Scheduler{
		Config:     schedule.Config{Lease: time.Minute},
		Schedules:  store,
		Generator:  r.definitions(db),
		Deliveries: postgres.NewReportDeliveryQueue(db, r.box),
		Archive:    r.archive,
		Now:        r.clock.Now,
		Log:        log.WithField("component", "schedule"),
	}
}

// mustDefine keeps a definition of the owner's, generated every day at
// 08:00 Berlin time over the day before, as PDF and CSV.
func (r *rig) mustDefine(t *testing.T, name string) report.Definition {
	t.Helper()
	d, err := r.definitions(r.dbs[0]).Create(t.Context(), r.owner, report.DefinitionCreate{
		Name: name, Metrics: []string{"distinct_users", "actions_by_action"}, Period: report.PeriodLastDay,
		Formats: []string{"pdf", "csv"}, Schedule: report.Schedule{Frequency: report.EveryDay, Hour: 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reports returns the kept reports of a definition, oldest first.
func (r *rig) reports(t *testing.T, definitionID string) []report.Report {
	t.Helper()
	var ids []string
	err := r.dbs[0].NewSelect().TableExpr("reports").Column("id").Where("definition_id = ?", definitionID).OrderExpr("generated_at, id").Scan(t.Context(), &ids)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]report.Report, len(ids))
	for i, id := range ids {
		if out[i], err = postgres.NewReportStore(r.dbs[0]).FindReport(t.Context(), r.owner, id); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *rig) find(t *testing.T, id string) report.Definition {
	t.Helper()
	d, err := r.definitions(r.dbs[0]).Find(t.Context(), r.owner, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func same(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

// TestTwoSchedulersRunADueScheduleOnce runs two schedulers, each with a
// pool of its own on one database, at the same moment, again and again,
// over one due schedule: exactly one claims it and one report is kept,
// for the due time, with its files archived and the schedule moved on.
func TestTwoSchedulersRunADueScheduleOnce(t *testing.T) {
	r := mustRig(t, 2)
	r.clock.Set("2026-03-10T05:00:00Z")
	d := r.mustDefine(t, "Daily digest")
	due := at(t, "2026-03-10T07:00:00Z") // 08:00 in Berlin
	if !same(d.NextRunAt, due) {
		t.Fatalf("next run at %v, want %s", d.NextRunAt, due)
	}
	r.clock.Set("2026-03-10T07:30:00Z")

	schedulers := []*schedule.Scheduler{r.scheduler(r.dbs[0]), r.scheduler(r.dbs[1])}
	claimed := make([]int, len(schedulers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range schedulers {
		wg.Go(func() {
			<-start
			for range 5 {
				n, err := s.RunDue(context.Background())
				if err != nil {
					t.Error(err)
				}
				claimed[i] += n
			}
		})
	}
	close(start)
	wg.Wait()
	if claimed[0]+claimed[1] != 1 {
		t.Fatalf("the schedulers claimed the schedule %d and %d times, want once in all", claimed[0], claimed[1])
	}
	reports := r.reports(t, d.ID)
	if len(reports) != 1 {
		t.Fatalf("%d reports kept, want 1", len(reports))
	}
	rep := reports[0]
	if !same(rep.ScheduledFor, due) || rep.Type != "custom" || rep.DefinitionID != d.ID || rep.Scope != report.ScopeWorkspace {
		t.Errorf("report: scheduled for %v, type %q, definition %q, scope %q", rep.ScheduledFor, rep.Type, rep.DefinitionID, rep.Scope)
	}
	if p := rep.Period; p.From.Format(time.RFC3339) != "2026-03-09T00:00:00+01:00" || p.To.Format(time.RFC3339) != "2026-03-10T00:00:00+01:00" {
		t.Errorf("period %s to %s, want the day before the run in Berlin", p.From, p.To)
	}
	if rep.Name != "Daily digest, 2026-03-09" || rep.GeneratedBy.Name != report.SystemName {
		t.Errorf("name %q, generated by %+v", rep.Name, rep.GeneratedBy)
	}
	archived, err := r.archive.List(t.Context(), r.owner.WorkspaceID, domain.ArchiveReport)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 || len(archived) != 2 {
		t.Fatalf("%d files on the report, %d in the archive, want the PDF and the CSV", len(rep.Files), len(archived))
	}
	for _, f := range rep.Files {
		if f.Kind != domain.ArchiveReport || (f.ContentType != "application/pdf" && f.ContentType != "text/csv; charset=utf-8") {
			t.Errorf("file %+v", f)
		}
	}
	after := r.find(t, d.ID)
	if !same(after.NextRunAt, at(t, "2026-03-11T07:00:00Z")) || !same(after.LastRunAt, due) {
		t.Errorf("after the run: next %v, last %v", after.NextRunAt, after.LastRunAt)
	}

	t.Run("a run whose lease another scheduler took over is not kept", func(t *testing.T) {
		d := r.mustDefine(t, "Taken over")
		now := r.clock.Set("2026-03-11T07:00:00Z")
		stores := []*postgres.ReportDefinitionStore{postgres.NewReportDefinitionStore(r.dbs[0]), postgres.NewReportDefinitionStore(r.dbs[1])}
		first, err := stores[0].ClaimDue(t.Context(), 10, now, time.Second)
		if err != nil || len(first) != 2 {
			t.Fatalf("first claim: %d, %v; want both due definitions", len(first), err)
		}
		if again, _ := stores[1].ClaimDue(t.Context(), 10, now, time.Minute); len(again) != 0 {
			t.Fatalf("a leased schedule was claimed again: %d", len(again))
		}
		// The first scheduler stalls past its lease; the second takes over.
		now = r.clock.Set("2026-03-11T07:00:02Z")
		second, err := stores[1].ClaimDue(t.Context(), 10, now, time.Minute)
		if err != nil || len(second) != 2 {
			t.Fatalf("second claim: %d, %v", len(second), err)
		}
		claimOf := func(cs []report.Claim) report.Claim {
			for _, c := range cs {
				if c.Definition.ID == d.ID {
					return c
				}
			}
			t.Fatal("no claim of the definition")
			return report.Claim{}
		}
		a, b := claimOf(first), claimOf(second)
		due := *a.Definition.NextRunAt
		if _, err := r.definitions(r.dbs[0]).Generate(t.Context(), report.ScheduledRun(a.Definition, due, a.LeaseID)); activity.ErrorCode(err) != activity.ECONFLICT {
			t.Fatalf("the stalled scheduler's run: %v, want a conflict", err)
		}
		if _, err := r.definitions(r.dbs[1]).Generate(t.Context(), report.ScheduledRun(b.Definition, due, b.LeaseID)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.definitions(r.dbs[1]).Generate(t.Context(), report.ScheduledRun(b.Definition, due, b.LeaseID)); activity.ErrorCode(err) != activity.ECONFLICT {
			t.Fatalf("the same run kept twice: %v, want a conflict", err)
		}
		if n := len(r.reports(t, d.ID)); n != 1 {
			t.Errorf("%d reports kept, want 1", n)
		}
	})
}

// TestRestartedSchedulerCatchesUpOnce stops the scheduler over three due
// times of a daily schedule; the scheduler started afterwards runs one
// report, for the latest of them, and then goes on with the schedule.
func TestRestartedSchedulerCatchesUpOnce(t *testing.T) {
	r := mustRig(t, 1)
	r.clock.Set("2026-03-09T05:00:00Z")
	d := r.mustDefine(t, "Catch-up")
	if !same(d.NextRunAt, at(t, "2026-03-09T07:00:00Z")) {
		t.Fatalf("next run at %v", d.NextRunAt)
	}
	// Down from before 9 March 08:00 until after 11 March 08:00 Berlin
	// time: three due times missed.
	r.clock.Set("2026-03-11T07:30:00Z")
	s := r.scheduler(r.dbs[0])
	for i, want := range []int{1, 0, 0} {
		if n, err := s.RunDue(t.Context()); err != nil || n != want {
			t.Fatalf("round %d: claimed %d, %v; want %d", i, n, err, want)
		}
	}
	reports := r.reports(t, d.ID)
	if len(reports) != 1 {
		t.Fatalf("%d reports after three missed due times, want 1", len(reports))
	}
	if !same(reports[0].ScheduledFor, at(t, "2026-03-11T07:00:00Z")) || reports[0].Name != "Catch-up, 2026-03-10" {
		t.Errorf("the catch-up run: scheduled for %v, named %q; want the latest due time", reports[0].ScheduledFor, reports[0].Name)
	}
	after := r.find(t, d.ID)
	if !same(after.NextRunAt, at(t, "2026-03-12T07:00:00Z")) {
		t.Errorf("next run at %v, want the next due time", after.NextRunAt)
	}
	var events []string
	err := r.dbs[0].NewSelect().TableExpr("outbox").ColumnExpr("payload::text").Where("payload->>'action' = ?", "system.report_generated").Scan(t.Context(), &events)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("%d system.report_generated events, want 1", len(events))
	}
	var e activity.Event
	if err := json.Unmarshal([]byte(events[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Actor.Type != activity.ActorSystem || e.Resource.ID != reports[0].ID || e.Details["definition_id"] != d.ID || e.Details["scheduled_for"] != "2026-03-11T07:00:00Z" {
		t.Errorf("event: actor %+v, resource %+v, details %v", e.Actor, e.Resource, e.Details)
	}

	// The schedule goes on: the next due time runs once.
	r.clock.Set("2026-03-12T07:00:00Z")
	if n, err := s.RunDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("the next due time: claimed %d, %v", n, err)
	}
	if reports = r.reports(t, d.ID); len(reports) != 2 || !same(reports[1].ScheduledFor, at(t, "2026-03-12T07:00:00Z")) {
		t.Fatalf("%d reports, the last scheduled for %v", len(reports), reports[len(reports)-1].ScheduledFor)
	}
}

// TestDeliveryFailuresNeverHoldTheSchedule defines a daily report sent to
// an SMTP server that is not there and to a webhook that always answers
// 503: each failed attempt is recorded with its retry, the next due time
// still makes its report, and a delivery out of attempts is marked failed.
func TestDeliveryFailuresNeverHoldTheSchedule(t *testing.T) {
	r := mustRig(t, 1)
	var posts atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(hook.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	r.clock.Set("2026-03-10T06:00:00Z")
	d, err := r.definitions(r.dbs[0]).Create(t.Context(), r.owner, report.DefinitionCreate{
		Name: "Unlucky", Metrics: []string{"distinct_users"}, Schedule: report.Schedule{Frequency: report.EveryDay, Hour: 8},
		Recipients: []alert.Channel{{Type: alert.ChannelEmail, To: []string{"cfo@example.com"}}, {Type: alert.ChannelWebhook, URL: hook.URL + "/reports"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := r.scheduler(r.dbs[0])
	s.Config.MaxAttempts = 2
	s.Email = &notify.Email{Config: notify.SMTPConfig{Addr: closed, From: "Fluxera <reports@example.com>", TLS: notify.SMTPOpportunistic, Timeout: 5 * time.Second}}
	s.Webhook = &notify.Webhook{Client: notify.Policy{AllowLoopback: true}.HTTPClient(5 * time.Second)}
	type delivery struct {
		Type     string    `bun:"type"`
		State    string    `bun:"state"`
		Attempts int       `bun:"attempts"`
		Next     time.Time `bun:"next_attempt_at"`
		Error    string    `bun:"last_error"`
	}
	deliveries := func() []delivery {
		var out []delivery
		err := r.dbs[0].NewSelect().TableExpr("report_deliveries AS d").Join("JOIN reports AS r ON r.id = d.report_id").
			ColumnExpr("d.type, d.state, d.attempts, d.next_attempt_at, d.last_error").
			Where("r.definition_id = ?", d.ID).OrderExpr("d.created_at, d.type").Scan(t.Context(), &out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := r.clock.Set("2026-03-10T07:00:00Z")
	if n, err := s.RunDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("first due time: %d, %v", n, err)
	}
	if n, err := s.SendDue(t.Context()); err != nil || n != 2 {
		t.Fatalf("first sends: %d, %v", n, err)
	}
	got := deliveries()
	if len(got) != 2 || posts.Load() != 1 {
		t.Fatalf("deliveries %+v after %d posts", got, posts.Load())
	}
	for _, g := range got {
		if g.State != "pending" || g.Attempts != 1 || !g.Next.Equal(first.Add(time.Second)) || g.Error == "" {
			t.Errorf("after one failed attempt: %+v, want pending, due again a second later, with its error", g)
		}
	}

	// The next day: the schedule runs whatever its deliveries did.
	r.clock.Set("2026-03-11T07:00:00Z")
	if n, err := s.RunDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("the next due time, with deliveries failing: %d, %v", n, err)
	}
	if n, err := s.SendDue(t.Context()); err != nil || n != 4 {
		t.Fatalf("second sends: %d, %v", n, err)
	}
	got = deliveries()
	want := []string{"email failed 2", "webhook failed 2", "email pending 1", "webhook pending 1"}
	if len(got) != 4 {
		t.Fatalf("deliveries %+v", got)
	}
	for i, g := range got {
		if s := fmt.Sprintf("%s %s %d", g.Type, g.State, g.Attempts); s != want[i] {
			t.Errorf("delivery %d: %s, want %s", i, s, want[i])
		}
	}
	if n := len(r.reports(t, d.ID)); n != 2 {
		t.Errorf("%d reports, want one per due time", n)
	}
	var attempts int
	if attempts, err = r.dbs[0].NewSelect().TableExpr("report_delivery_attempts").Count(t.Context()); err != nil || attempts != 6 {
		t.Errorf("%d attempts recorded, want 6: %v", attempts, err)
	}
}

// failingGenerator fails every run, as a definition whose search the index
// refuses does.
type failingGenerator struct{}

func (failingGenerator) Generate(context.Context, report.Run) (report.Report, error) {
	return report.Report{}, errors.New("search: status 400: the index refused the query")
}

// TestFailingRunsAreRetriedLessAndLessOften fails a due schedule's run
// again and again: each retry waits about twice as long as the one before,
// up to the ceiling, nothing claims the schedule before its retry time, and
// the first run that works clears the count.
func TestFailingRunsAreRetriedLessAndLessOften(t *testing.T) {
	r := mustRig(t, 1)
	d := r.mustDefine(t, "Failing")
	s := r.scheduler(r.dbs[0])
	s.Config.RetryAfter, s.Config.MaxRetryAfter = time.Minute, 4*time.Minute
	s.Generator = failingGenerator{}
	now := r.clock.Set(d.NextRunAt.Add(30 * time.Second).Format(time.RFC3339))
	retryAt := func() (time.Time, int) {
		var row struct {
			LeasedUntil time.Time `bun:"leased_until"`
			Failures    int       `bun:"failures"`
		}
		if err := r.dbs[0].NewSelect().TableExpr("report_definitions").Column("leased_until", "failures").Where("id = ?", d.ID).Scan(t.Context(), &row); err != nil {
			t.Fatal(err)
		}
		return row.LeasedUntil, row.Failures
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		if n, err := s.RunDue(t.Context()); err != nil || n != 1 {
			t.Fatalf("run %d: RunDue = %d, %v", i+1, n, err)
		}
		at, failures := retryAt()
		wait := at.Sub(now)
		if failures != i+1 || wait > want || wait < want*8/10 {
			t.Fatalf("after failure %d: retry in %s with %d failures counted, want about %s (less at most a fifth) and %d", i+1, wait, failures, want, i+1)
		}
		r.clock.Set(at.Add(-time.Second).Format(time.RFC3339Nano))
		if n, _ := s.RunDue(t.Context()); n != 0 {
			t.Fatalf("the schedule was claimed %s before its retry time", time.Second)
		}
		now = r.clock.Set(at.Add(time.Second).Format(time.RFC3339Nano))
	}
	s.Generator = r.definitions(r.dbs[0])
	if n, err := s.RunDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("the working run: RunDue = %d, %v", n, err)
	}
	if _, failures := retryAt(); failures != 0 {
		t.Errorf("after a run that worked %d failures are still counted", failures)
	}
	if got := r.reports(t, d.ID); len(got) != 1 {
		t.Errorf("kept %d reports, want the one of the run that worked", len(got))
	}
}
