package http

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeAlerts registers alert rules, alerts and the detection settings.
func (s *Server) routeAlerts(api fiber.Router) {
	api.Get("/alert-rules", s.listAlertRules)
	api.Post("/alert-rules", s.createAlertRule)
	api.Get("/alert-rules/presets", s.listAlertPresets)
	api.Get("/alert-rules/:id", s.findAlertRule)
	api.Patch("/alert-rules/:id", s.updateAlertRule)
	api.Delete("/alert-rules/:id", s.deleteAlertRule)

	api.Get("/alerts", s.findAlerts)
	api.Get("/alerts/:id", s.findAlert)
	api.Post("/alerts/:id/acknowledge", s.acknowledgeAlert)
	api.Post("/alerts/:id/resolve", s.resolveAlert)

	api.Get("/detection", s.getDetection)
	api.Patch("/detection", s.updateDetection)
	api.Post("/detection/signing-secret", s.rotateSigningSecret)
}

func (s *Server) listAlertRules(c *fiber.Ctx) error {
	rules, err := s.services.AlertRules.ListAlertRules(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alert_rules": rules})
}

func (s *Server) createAlertRule(c *fiber.Ctx) error {
	var in alert.AlertRuleCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.services.AlertRules.CreateAlertRule(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

// presetBody is a preset as the API shows it: the rule it creates, without
// the fields a stored rule has.
type presetBody struct {
	Name  string     `json:"name"`
	Group string     `json:"group"`
	Rule  presetRule `json:"rule"`
}

type presetRule struct {
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	ActivityTypes []string `json:"activity_types"`
	Threshold     int      `json:"threshold"`
	WindowMinutes int      `json:"window_minutes,omitempty"`
	GroupBy       string   `json:"group_by"`
	Severity      string   `json:"severity"`
	// Conditions are the preset's conditions on the event, if any.
	Conditions []alert.Condition `json:"conditions"`
}

func (s *Server) listAlertPresets(c *fiber.Ctx) error {
	presets, err := s.services.AlertRules.ListAlertPresets(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]presetBody, len(presets))
	for i, p := range presets {
		r := p.Rule
		if r.Threshold == 0 {
			r.Threshold = 1
		}
		if r.GroupBy == "" {
			r.GroupBy = alert.GroupByActor
		}
		out[i] = presetBody{Name: p.Name, Group: p.Group, Rule: presetRule{
			Name: r.Name, Description: r.Description, ActivityTypes: r.ActivityTypes, Threshold: r.Threshold,
			WindowMinutes: r.WindowMinutes, GroupBy: r.GroupBy, Severity: r.Severity, Conditions: r.Conditions,
		}}
		if out[i].Rule.Conditions == nil {
			out[i].Rule.Conditions = []alert.Condition{}
		}
	}
	return c.JSON(fiber.Map{"presets": out})
}

func (s *Server) findAlertRule(c *fiber.Ctx) error {
	r, err := s.services.AlertRules.FindAlertRule(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) updateAlertRule(c *fiber.Ctx) error {
	var in alert.AlertRuleUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.services.AlertRules.UpdateAlertRule(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) deleteAlertRule(c *fiber.Ctx) error {
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.AlertRules.DeleteAlertRule(c.UserContext(), principal(c), c.Params("id"), in.Note); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// findAlerts lists alerts, newest first. It refuses an unknown, repeated
// or empty parameter and a bad value by name.
func (s *Server) findAlerts(c *fiber.Ctx) error {
	f, err := alertFilter(c)
	if err != nil {
		return err
	}
	page, err := s.services.Alerts.FindAlerts(c.UserContext(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// alertParams are the query parameters of the alert listing.
var alertParams = map[string]httpapi.QueryParam{
	"state": {}, "severity": {}, "detector": {}, "rule_id": {}, "cursor": {}, "from": {}, "to": {}, "limit": {},
}

func alertFilter(c *fiber.Ctx) (alert.AlertFilter, error) {
	var f alert.AlertFilter
	err := httpapi.ReadQuery(c, "parameter", alertParams, func(key, val string) error {
		switch key {
		case "state":
			f.State = val
		case "severity":
			f.Severity = val
		case "detector":
			f.Detector = val
		case "rule_id":
			f.RuleID = val
		case "cursor":
			f.Cursor = val
		case "from", "to":
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return activity.Errorf(activity.EINVALID, key, "%s must be a time such as 2026-11-25T09:00:00Z", key)
			}
			if key == "from" {
				f.From = &t
			} else {
				f.To = &t
			}
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > alert.MaxAlertLimit {
				return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", alert.MaxAlertLimit)
			}
			f.Limit = n
		}
		return nil
	})
	return f, err
}

func (s *Server) findAlert(c *fiber.Ctx) error {
	a, err := s.services.Alerts.FindAlert(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) acknowledgeAlert(c *fiber.Ctx) error {
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Alerts.AcknowledgeAlert(c.UserContext(), principal(c), c.Params("id"), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) resolveAlert(c *fiber.Ctx) error {
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Alerts.ResolveAlert(c.UserContext(), principal(c), c.Params("id"), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) getDetection(c *fiber.Ctx) error {
	d, err := s.services.Detection.GetDetection(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) updateDetection(c *fiber.Ctx) error {
	var in alert.DetectionUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := s.services.Detection.UpdateDetection(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// rotateSigningSecret answers the new secret, the only time it is shown;
// no cache may keep it.
func (s *Server) rotateSigningSecret(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	secret, err := s.services.Detection.RotateSigningSecret(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"signing_secret": secret})
}
