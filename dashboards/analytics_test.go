package dashboards

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
)

// TestReadAnalyticsQuery reads the Activity Analytics page's query: the
// type and the period pass through, and an unknown, repeated or bad
// parameter is named; the links keep the type and the period.
func TestReadAnalyticsQuery(t *testing.T) {
	tests := []struct {
		name, query, field string
		want               analyticsQuery
		url                string
	}{
		{"nothing", "", "", analyticsQuery{Type: "activity"}, "/settings/analytics?type=activity"},
		{"type and range", "type=insights&range=7d", "", analyticsQuery{Type: "insights", Range: "7d"}, "/settings/analytics?range=7d&type=insights"},
		{"dates", "type=usage&from=2026-03-01&to=2026-03-31", "", analyticsQuery{Type: "usage", From: "2026-03-01", To: "2026-03-31"}, "/settings/analytics?from=2026-03-01&to=2026-03-31&type=usage"},
		{"unknown type", "type=pie", "type", analyticsQuery{}, ""},
		{"empty type", "type=", "type", analyticsQuery{}, ""},
		{"type twice", "type=usage&type=trends", "type", analyticsQuery{}, ""},
		{"unknown parameter", "colour=red", "colour", analyticsQuery{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var got analyticsQuery
			var err error
			app.Get("/", func(c *fiber.Ctx) error {
				got, err = readAnalyticsQuery(c)
				return nil
			})
			if _, e := app.Test(httptest.NewRequest("GET", "/?"+tt.query, nil)); e != nil {
				t.Fatal(e)
			}
			if tt.field != "" {
				if activity.ErrorCode(err) != activity.EINVALID || activity.ErrorField(err) != tt.field {
					t.Errorf("error %v, want invalid %s", err, tt.field)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("read %+v, %v; want %+v", got, err, tt.want)
			}
			if u := got.url("/settings/analytics"); u != tt.url {
				t.Errorf("url %s, want %s", u, tt.url)
			}
		})
	}
}
