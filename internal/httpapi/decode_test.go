package httpapi_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

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
