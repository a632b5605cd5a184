package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/openapi"
)

// openAPI answers the API's OpenAPI document, to anyone: it says what the
// API takes and answers, nothing about any workspace.
func (s *Server) openAPI(c *fiber.Ctx) error {
	doc, err := openapi.JSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(doc)
}
