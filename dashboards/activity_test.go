package dashboards

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/ingest/opensearch/ostest"
	searchos "github.com/fluxera/activity/searchapi/opensearch"
)

// TestActivityLogPageWork checks the work one load of Settings › Activity
// Log does on the real PostgreSQL and OpenSearch, by counting it rather
// than timing it: one search, without the facet counts, which the page
// loads through htmx in a request of its own; one SQL statement for
// everything the filters offer; and the statements that record the view
// of the log on the first load, none on the second, within the debounce
// period. The page still shows the entries and the filters' choices. The
// facets' request is one search with the counts, its users named from the
// members the filters offer (no sub-aggregation for each user's latest
// entry), one SQL statement for the members, and no second record of the
// view.
func TestActivityLogPageWork(t *testing.T) {
	db := postgrestest.MustDB(t)
	// Hooked before anything is written: the relay's wake-up reads the
	// hooks from a goroutine of its own.
	ran := &postgrestest.Statements{}
	db.AddQueryHook(ran)
	email, _ := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Page work")
	p := postgrestest.MustPrincipal(t, db, email)
	p.TimeZone = "Europe/Berlin"
	ctx := context.Background()
	assets := postgres.NewAssetService(db)
	licenses := postgres.NewLicenseService(db, postgrestest.MustKeyBox(t))
	users, err := postgres.NewUserService(db, argon2.Hasher{Params: postgrestest.Argon2}, postgres.AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}

	client, cfg := ostest.MustIndices(t, "console")
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	var events []activity.Event
	for i := range 5 {
		e := activity.NewEvent(p.WorkspaceID, "asset.updated", day.Add(time.Duration(i)*time.Minute))
		e.Actor = activity.Actor{ID: p.UserID, Name: "Name in the entry", Email: "entry@example.com", Type: activity.ActorUser}
		e.Resource = activity.Resource{Type: "asset", ID: activity.NewEventID(), Name: fmt.Sprintf("Macbook %d", i)}
		events = append(events, e)
	}
	ostest.MustIndex(t, client, cfg, events)
	for _, name := range []string{"Macbook Air", "Desk phone"} {
		if _, err := assets.CreateAsset(ctx, p, domain.AssetCreate{Name: name}); err != nil {
			t.Fatal(err)
		}
	}

	sent := &ostest.Searches{}
	counted, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: cfg.URLs, Transport: sent}})
	if err != nil {
		t.Fatal(err)
	}
	finder := searchos.NewFinder(counted, cfg.IndexPrefix)
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{
		cfg: Config{CookieName: "session", Cookie: func(string, time.Time) *fiber.Cookie { return &fiber.Cookie{} }},
		svc: Services{
			Users: users, Assets: assets, Licenses: licenses, Finder: finder, Entries: finder,
			Choices: postgres.NewChoiceService(db), LogViews: postgres.NewLogViewService(db, time.Hour),
		},
		log: logrus.New(), pages: pages, now: time.Now,
	}
	app := fiber.New()
	app.Get("/settings/activity-log", func(ctx *fiber.Ctx) error {
		ctx.SetUserContext(activity.WithPrincipal(ctx.UserContext(), p))
		return c.page(c.activityLog)(ctx)
	})
	load := func(query string, htmx bool) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/settings/activity-log?q=macbook&category=asset&date=custom&from=2026-03-01&to=2026-03-31"+query, nil)
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", res.StatusCode, b)
		}
		return string(b)
	}

	ran.Take()
	sent.Take()
	for _, tt := range []struct {
		name string
		// record is the statements of the view's recording, in one
		// transaction: forgetting old views, noting this one and the
		// log_viewed event's outbox row. The same view again within the
		// debounce period is known to be recorded: no statement.
		record []string
	}{
		{"first load", []string{"BEGIN", "DELETE", "INSERT", "INSERT", "COMMIT"}},
		{"second load", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := load("", false)
			for _, want := range []string{"Macbook 4", `<option value="` + p.UserID + `"`, "Macbook Air", "Desk phone", p.Name, `hx-get="/settings/activity-log?category=asset&amp;date=custom&amp;facets=1&amp;`} {
				if !strings.Contains(body, want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			if s := sent.Take(); len(s) != 1 || strings.Contains(s[0], "aggs") {
				t.Errorf("%d searches (want 1, without the facets' aggregations): %q", len(s), s)
			}
			verbs := statementVerbs(ran.Take())
			want := append([]string{"SELECT"}, tt.record...)
			// The choices are read beside the recording: their order varies.
			slices.Sort(verbs)
			slices.Sort(want)
			if !slices.Equal(verbs, want) {
				t.Errorf("SQL statements %q, want %q (one for the filters' choices, the rest recording the view)", verbs, want)
			}

			facets := load("&facets=1", true)
			if !strings.Contains(facets, `aria-label="Facets"`) || !strings.Contains(facets, `<span class="count">5</span>`) {
				t.Errorf("the facets' fragment shows no counts: %s", facets)
			}
			if !strings.Contains(facets, p.Name) || strings.Contains(facets, "Name in the entry") {
				t.Errorf("the user facet does not name the user as a member: %s", facets)
			}
			if strings.Contains(facets, "Macbook 4") || strings.Contains(facets, "<html") {
				t.Errorf("the facets' fragment holds more than the facets: %s", facets)
			}
			if s := sent.Take(); len(s) != 1 || !strings.Contains(s[0], "aggs") || strings.Contains(s[0], "top_hits") {
				t.Errorf("%d searches for the facets (want 1 with the counts, without a sub-aggregation per user): %q", len(s), s)
			}
			if verbs := statementVerbs(ran.Take()); !slices.Equal(verbs, []string{"SELECT"}) {
				t.Errorf("SQL statements of the facets %q, want one SELECT for the members, and the view not recorded again", verbs)
			}
		})
	}
}

// statementVerbs are the first words of the SQL statements run, without
// the relay's wake-up, sent after a commit off the request's path.
func statementVerbs(ran []string) []string {
	var verbs []string
	for _, q := range ran {
		if strings.Contains(q, "pg_notify") {
			continue
		}
		verbs = append(verbs, strings.ToUpper(strings.Fields(strings.TrimLeft(q, "( \n\t"))[0]))
	}
	return verbs
}
