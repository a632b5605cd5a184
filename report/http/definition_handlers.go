package http

import (
	"github.com/gofiber/fiber/v2"

	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/report"
)

// definitionHandlers serve the custom report definitions.
type definitionHandlers struct {
	service *report.Definitions
}

func (h *definitionHandlers) list(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	ds, err := h.service.List(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"report_definitions": ds})
}

// create keeps a definition and answers it with 201.
func (h *definitionHandlers) create(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in report.DefinitionCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.service.Create(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/report-definitions/"+d.ID)
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (h *definitionHandlers) find(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	d, err := h.service.Find(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (h *definitionHandlers) update(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in report.DefinitionUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.service.Update(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// noteBody is the optional body of a deletion.
type noteBody struct {
	Note string `json:"note"`
}

func (h *definitionHandlers) delete(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if err := h.service.Delete(c.UserContext(), principal(c), c.Params("id"), in.Note); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// run generates the definition's report now and answers it with 201.
func (h *definitionHandlers) run(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	r, err := h.service.Run(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/reports/"+r.ID)
	return c.Status(fiber.StatusCreated).JSON(r)
}
