package http

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
)

// statuses maps error codes to HTTP statuses; it is the only such map.
var statuses = map[string]int{
	activity.EINVALID:      fiber.StatusBadRequest,
	activity.EUNAUTHORIZED: fiber.StatusUnauthorized,
	activity.EFORBIDDEN:    fiber.StatusForbidden,
	activity.ENOTFOUND:     fiber.StatusNotFound,
	activity.ECONFLICT:     fiber.StatusConflict,
	activity.ETOOMANY:      fiber.StatusTooManyRequests,
	activity.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
}

// ErrorBody is the JSON body of every failed request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, in a code for programs and a message
// for people, and which input field it is about.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// handleError turns any handler error into a status and an ErrorBody.
// Internal errors are logged here, once, and answered without detail. A
// refusal (403) of a signed-in caller is recorded as auth.access_denied
// here, the one place every refusal passes.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, detail := fiber.StatusInternalServerError, ErrorDetail{Code: activity.EINTERNAL, Message: "internal error"}
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		status, detail = fe.Code, ErrorDetail{Code: fiberCode(fe.Code), Message: fe.Message}
	case activity.ErrorCode(err) != activity.EINTERNAL:
		code := activity.ErrorCode(err)
		status, detail = statuses[code], ErrorDetail{Code: code, Message: activity.ErrorMessage(err), Field: activity.ErrorField(err)}
		if code == activity.EFORBIDDEN {
			s.recordDenied(c, err)
		}
		if code == activity.EUNAVAILABLE {
			c.Set(fiber.HeaderRetryAfter, "2")
			s.log.WithError(err).WithFields(map[string]any{"method": c.Method(), "path": c.Path(), "request_id": requestID(c)}).Warn("A dependency could not serve the request.")
		}
	default:
		s.log.WithError(err).WithFields(map[string]any{"method": c.Method(), "path": c.Path(), "request_id": requestID(c)}).Error("Request failed.")
	}
	detail.RequestID = requestID(c)
	return c.Status(status).JSON(ErrorBody{Error: detail})
}

func fiberCode(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return activity.ENOTFOUND
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "too_large"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case fiber.StatusTooManyRequests:
		return activity.ETOOMANY
	}
	if status >= 500 {
		return activity.EINTERNAL
	}
	return activity.EINVALID
}
