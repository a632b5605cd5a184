package http

import (
	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
)

// handleError turns any handler error into a status and an ErrorBody.
// Internal errors are logged here, once, and answered without detail. A
// refusal (403) of a signed-in caller is recorded as auth.access_denied
// here, the one place every refusal passes.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, detail := httpapi.Describe(err)
	switch detail.Code {
	case activity.EFORBIDDEN:
		s.recordDenied(c, err)
	case activity.EUNAVAILABLE:
		c.Set(fiber.HeaderRetryAfter, "2")
		s.log.WithError(err).WithFields(map[string]any{"method": c.Method(), "path": c.Path(), "request_id": requestID(c)}).Warn("A dependency could not serve the request.")
	case activity.EINTERNAL:
		s.log.WithError(err).WithFields(map[string]any{"method": c.Method(), "path": c.Path(), "request_id": requestID(c)}).Error("Request failed.")
	}
	detail.RequestID = requestID(c)
	return c.Status(status).JSON(httpapi.ErrorBody{Error: detail})
}
