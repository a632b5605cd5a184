package http

import (
	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// errSignupOff answers a sign-up on a platform that does not take them.
var errSignupOff = activity.Errorf(activity.ENOTFOUND, "", "self-service sign-up is off on this platform; ask its operator for a workspace")

// signupAccepted is the one answer to a sign-up that was taken, whether it
// created a workspace or the email has an account already, so that
// signing up reveals no account.
var signupAccepted = fiber.Map{
	"status":  "accepted",
	"message": "If no account uses this email, the workspace is ready: sign in with the email and password you chose.",
}

// signup creates a workspace and its owner for someone without an
// account, when the platform takes sign-ups (Services.Signup is set).
func (s *Server) signup(c *fiber.Ctx) error {
	if s.services.Signup == nil {
		return errSignupOff
	}
	var in domain.Signup
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.Signup.SignUp(c.UserContext(), in); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(signupAccepted)
}
