package http

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
)

// statusClientGone answers, to no one, a request whose client went away.
const statusClientGone = 499

// deadline ends the request's context once Config.RequestTimeout has
// passed, or as soon as the client closes its connection, so that no call
// the request makes to PostgreSQL or OpenSearch outlives it. A request
// that failed because its time ran out answers 503 with Retry-After; one
// whose client went away is not answered nor logged as a failure. Errors
// are answered here, while the request's context still holds, so that a
// refusal is recorded under it.
func (s *Server) deadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	var gone atomic.Bool
	stop := httpapi.CancelWhenGone(c.Context().Conn(), func() {
		gone.Store(true)
		cancel()
	})
	defer stop()
	c.SetUserContext(ctx)
	err := c.Next()
	switch {
	case err == nil:
		return nil
	case gone.Load():
		s.log.WithError(err).WithFields(map[string]any{"method": c.Method(), "path": c.Path(), "request_id": requestID(c)}).
			Info("The client went away before its answer.")
		return c.SendStatus(statusClientGone)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && activity.ErrorCode(err) == activity.EINTERNAL:
		err = errors.Join(activity.Errorf(activity.EUNAVAILABLE, "",
			"the request took longer than %s; try again shortly", s.cfg.RequestTimeout), err)
	}
	return s.handleError(c, err)
}
