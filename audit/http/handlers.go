// Package http serves the audit routes — the checkpoint signing keys, the
// checkpoints and the verification of a workspace's log — on the
// platform's authenticated API router.
package http

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/audit"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// MaxCheckpoints is the largest page of checkpoints.
const MaxCheckpoints = 1000

// Register mounts GET /audit/keys, /audit/checkpoints and /audit/verify on
// api, a router whose requests already carry their principal. Each needs
// the permission to see the whole workspace's log (owners and admins; a
// token with activity:read).
func Register(api fiber.Router, svc *audit.Service) {
	h := &handlers{svc: svc}
	api.Get("/audit/keys", h.keys)
	api.Get("/audit/checkpoints", h.checkpoints)
	api.Get("/audit/verify", h.verify)
}

type handlers struct {
	svc *audit.Service
}

func principal(c *fiber.Ctx) (activity.Principal, error) {
	p, _ := activity.PrincipalFrom(c.UserContext())
	return p, domain.Require(p, domain.ViewWorkspaceLog)
}

func (h *handlers) keys(c *fiber.Ctx) error {
	if _, err := principal(c); err != nil {
		return err
	}
	if err := httpapi.ReadQuery(c, "parameter", nil, func(string, string) error { return nil }); err != nil {
		return err
	}
	keys, err := h.svc.Store.Keys(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"keys": keys})
}

var checkpointParams = map[string]httpapi.QueryParam{"after": {}, "limit": {}}

func (h *handlers) checkpoints(c *fiber.Ctx) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var after int64
	limit := 100
	err = httpapi.ReadQuery(c, "parameter", checkpointParams, func(key, val string) error {
		n, err := strconv.ParseInt(val, 10, 64)
		switch key {
		case "after":
			if err != nil || n < 0 {
				return activity.Errorf(activity.EINVALID, "after", "after must be a sequence number, 0 or more")
			}
			after = n
		case "limit":
			if err != nil || n < 1 || n > MaxCheckpoints {
				return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", MaxCheckpoints)
			}
			limit = int(n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cps, err := h.svc.Store.Checkpoints(c.UserContext(), p.WorkspaceID, after, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"checkpoints": cps})
}

var verifyParams = map[string]httpapi.QueryParam{"from": {}, "to": {}}

func (h *handlers) verify(c *fiber.Ctx) error {
	p, err := principal(c)
	if err != nil {
		return err
	}
	var from, to time.Time
	err = httpapi.ReadQuery(c, "parameter", verifyParams, func(key, val string) error {
		t, err := time.Parse(time.RFC3339, val)
		if err != nil {
			return activity.Errorf(activity.EINVALID, key, "%s must be a time such as 2026-12-01T00:00:00Z", key)
		}
		if key == "from" {
			from = t
		} else {
			to = t
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return activity.Errorf(activity.EINVALID, "to", "to must be after from")
	}
	res, err := h.svc.Verify(c.UserContext(), p.WorkspaceID, from, to)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
