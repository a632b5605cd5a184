package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/internal/httpapi"
)

func TestRefuseEncodedBodies(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string // Content-Encoding lines
		refused  bool
		received string
	}{
		{"no encoding", nil, false, "{}"},
		{"identity", []string{"identity"}, false, "{}"},
		{"identity in capitals", []string{"IDENTITY"}, false, "{}"},
		{"gzip", []string{"gzip"}, true, ""},
		{"deflate", []string{"deflate"}, true, ""},
		{"brotli", []string{"br"}, true, ""},
		{"an unknown coding", []string{"x-squash"}, true, ""},
		{"gzip behind identity", []string{"identity, gzip"}, true, ""},
		{"gzip in a second line", []string{"identity", "gzip"}, true, ""},
		{"gzip in capitals", []string{"GZIP"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
				status, detail := httpapi.Describe(err)
				return c.Status(status).JSON(httpapi.ErrorBody{Error: detail})
			}})
			app.Use(httpapi.RefuseEncodedBodies)
			var received string
			app.Post("/", func(c *fiber.Ctx) error {
				received = string(httpapi.Body(c))
				return c.SendStatus(fiber.StatusNoContent)
			})
			req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
			for _, l := range tt.lines {
				req.Header.Add("Content-Encoding", l)
			}
			res, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			if refused := res.StatusCode == fiber.StatusUnsupportedMediaType; refused != tt.refused {
				t.Errorf("status %d, want refused=%v", res.StatusCode, tt.refused)
			}
			if received != tt.received {
				t.Errorf("the handler read %q, want %q", received, tt.received)
			}
		})
	}
}
