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

func TestReadQuery(t *testing.T) {
	params := map[string]httpapi.QueryParam{"q": {MayBeEmpty: true}, "user": {Repeatable: true}, "limit": {}}
	tests := []struct {
		name, query string
		read        string // the parameters read, in order
		field, msg  string // the refusal, if any
	}{
		{"known ones in order", "limit=5&user=a&user=b&q=", "limit=5 user=a user=b q=", "", ""},
		{"unknown", "limit=5&colour=red", "limit=5", "colour", `unknown filter "colour"`},
		{"repeated", "limit=5&limit=6", "limit=5", "limit", "limit is given more than once"},
		{"empty", "user=", "", "user", "user has no value"},
		{"refused by the reader", "limit=x", "limit=x", "limit", "limit is bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New()
			var read []string
			var got error
			app.Get("/", func(c *fiber.Ctx) error {
				got = httpapi.ReadQuery(c, "filter", params, func(key, val string) error {
					read = append(read, key+"="+val)
					if val == "x" {
						return activity.Errorf(activity.EINVALID, key, "%s is bad", key)
					}
					return nil
				})
				return nil
			})
			if _, err := app.Test(httptest.NewRequest("GET", "/?"+tt.query, nil)); err != nil {
				t.Fatal(err)
			}
			if strings.Join(read, " ") != tt.read {
				t.Errorf("read %q, want %q", read, tt.read)
			}
			var e *activity.Error
			switch {
			case tt.msg == "" && got != nil:
				t.Errorf("refused: %v", got)
			case tt.msg != "" && (!errors.As(got, &e) || e.Field != tt.field || e.Message != tt.msg || e.Code != activity.EINVALID):
				t.Errorf("refusal = %v, want %s on %s", got, tt.msg, tt.field)
			}
		})
	}
}
