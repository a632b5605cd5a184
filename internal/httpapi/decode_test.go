package httpapi_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
)

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name, body string
		refusal    string // a part of the refusal's message, or "" when the body is taken
		want       string // the name read
	}{
		{"an object", `{"name":"Dell"}`, "", "Dell"},
		{"an object after blanks", " \n\t{\"name\":\"Dell\"}", "", "Dell"},
		{"escaped text", `{"name":"caf\u00e9"}`, "", "café"},
		{"not UTF-8", "{\"name\":\"caf\xe9\"}", "not valid UTF-8", ""},
		{"a byte order mark", "\ufeff{}", "must be a JSON object", ""},
		{"null", "null", "must be a JSON object", ""},
		{"a list", "[]", "must be a JSON object", ""},
		{"a string", `"Dell"`, "must be a JSON object", ""},
		{"lists nested 100,000 deep", strings.Repeat("[", 100_000), "must be a JSON object", ""},
		{"objects nested 100,000 deep", strings.Repeat(`{"a":`, 100_000), "malformed JSON", ""},
		{"two objects", `{} {}`, "exactly one JSON object", ""},
		{"empty", "", "the body is empty", ""},
		{"an unknown field", `{"colour":"red"}`, "unknown field", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var got body
			var err error
			app.Post("/", func(c *fiber.Ctx) error {
				err = httpapi.DecodeJSON(c, &got)
				return nil
			})
			req := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if _, terr := app.Test(req); terr != nil {
				t.Fatal(terr)
			}
			var e *activity.Error
			switch {
			case tt.refusal == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refusal == "" && got.Name != tt.want:
				t.Errorf("read %q, want %q", got.Name, tt.want)
			case tt.refusal != "" && (!errors.As(err, &e) || e.Code != activity.EINVALID || !strings.Contains(e.Message, tt.refusal)):
				t.Errorf("got %v, want EINVALID saying %q", err, tt.refusal)
			}
		})
	}
}

// day is a type that refuses, in its own UnmarshalJSON, what is not a day,
// as domain.Date does.
type day struct{ time.Time }

func (d *day) UnmarshalJSON(b []byte) error {
	t, err := time.Parse(`"2006-01-02"`, string(b))
	if err != nil {
		return activity.Errorf(activity.EINVALID, "", "%s is not a date of the form YYYY-MM-DD", b)
	}
	d.Time = t
	return nil
}

// TestDecodeJSONNamesTheFieldOfABadValue checks that a value refused by its
// type's own decoding, or a time that is not one, is refused naming its
// field, which encoding/json leaves out.
func TestDecodeJSONNamesTheFieldOfABadValue(t *testing.T) {
	type body struct {
		Name         string     `json:"name"`
		PurchaseDate *day       `json:"purchase_date"`
		ScheduledFor day        `json:"scheduled_for"`
		ExpiresAt    *time.Time `json:"expires_at"`
	}
	for _, tt := range []struct {
		name, body, field, refusal string
	}{
		{"a date that does not exist", `{"name":"x","purchase_date":"2026-02-30"}`, "purchase_date", "not a date"},
		{"a date in another form", `{"scheduled_for":"01/12/2026"}`, "scheduled_for", "not a date"},
		{"a date that is a number", `{"scheduled_for":20261201}`, "scheduled_for", "not a date"},
		{"a date written in another case", `{"Purchase_Date":"tomorrow"}`, "purchase_date", "not a date"},
		{"a time that is not RFC 3339", `{"expires_at":"2026-12-01"}`, "expires_at", "RFC 3339"},
		{"a time that does not exist", `{"name":"x","expires_at":"2026-13-01T00:00:00Z"}`, "expires_at", "RFC 3339"},
		{"a wrong type, as before", `{"name":3}`, "name", "must be a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var err error
			app.Post("/", func(c *fiber.Ctx) error {
				var got body
				err = httpapi.DecodeJSON(c, &got)
				return nil
			})
			req := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if _, terr := app.Test(req); terr != nil {
				t.Fatal(terr)
			}
			var e *activity.Error
			if !errors.As(err, &e) || e.Code != activity.EINVALID || e.Field != tt.field || !strings.Contains(e.Message, tt.refusal) {
				t.Errorf("got %#v, want EINVALID on %s saying %q", err, tt.field, tt.refusal)
			}
		})
	}
}
