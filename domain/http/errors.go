package http

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
)

// handleError turns any handler error into a status and an ErrorBody.
// Internal errors are logged here, once, and answered without detail. A
// refusal (403) of a signed-in caller is recorded as auth.access_denied
// here, the one place every refusal passes. A request the server refused
// while reading it, before any middleware ran (it has no request id), is
// answered with its status's own words: the reader's error quotes the
// request back.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, detail := httpapi.Describe(err)
	if requestID(c) == "" && status < 500 {
		detail.Message = unreadMessage(status)
	}
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

// unreadMessage says why a request was refused before it was read.
func unreadMessage(status int) string {
	switch status {
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request's headers are over %d bytes", maxHeaderBytes)
	case fiber.StatusRequestEntityTooLarge:
		return "the request's body is over the size limit"
	case fiber.StatusBadRequest:
		return "the request is not valid HTTP/1.1"
	}
	return utils.StatusMessage(status)
}
