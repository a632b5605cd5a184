package httpapi

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

// Describe returns the HTTP status and the error body's detail of err: a
// coded error's status and its message for the user, a fiber error's
// status, and 500 with no detail for anything else.
func Describe(err error) (int, ErrorDetail) {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		return fe.Code, ErrorDetail{Code: fiberCode(fe.Code), Message: fe.Message}
	case activity.ErrorCode(err) != activity.EINTERNAL:
		code := activity.ErrorCode(err)
		return statuses[code], ErrorDetail{Code: code, Message: activity.ErrorMessage(err), Field: activity.ErrorField(err)}
	}
	return fiber.StatusInternalServerError, ErrorDetail{Code: activity.EINTERNAL, Message: "internal error"}
}

func fiberCode(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return activity.ENOTFOUND
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge, fiber.StatusRequestHeaderFieldsTooLarge:
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
