// Package http serves the report routes on the platform's authenticated
// API router: generating a report, listing and reading the kept ones,
// downloading one as PDF, CSV or JSON, and the custom report definitions
// that generate reports on a schedule.
package http

import (
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/report"
	"github.com/fluxera/activity/searchapi"
)

// Register mounts the report routes and the custom report definitions'
// on api, a router whose requests already carry their principal.
func Register(api fiber.Router, s *report.Service, definitions *report.Definitions) {
	if s == nil || definitions == nil {
		panic("report/http: Register needs the report and definition services")
	}
	h := &handlers{service: s}
	api.Post("/reports", h.generate)
	api.Get("/reports", h.list)
	api.Get("/reports/:id", h.find)
	api.Get("/reports/:id/export", h.export)

	d := &definitionHandlers{service: definitions}
	api.Get("/report-definitions", d.list)
	api.Post("/report-definitions", d.create)
	api.Get("/report-definitions/:id", d.find)
	api.Patch("/report-definitions/:id", d.update)
	api.Delete("/report-definitions/:id", d.delete)
	api.Post("/report-definitions/:id/run", d.run)
}

type handlers struct {
	service *report.Service
}

func principal(c *fiber.Ctx) activity.Principal {
	p, _ := activity.PrincipalFrom(c.UserContext())
	return p
}

// generate computes and keeps a report and answers it with 201.
func (h *handlers) generate(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	var q searchapi.ReportQuery
	if err := httpapi.DecodeJSON(c, &q); err != nil {
		return err
	}
	r, err := h.service.Generate(c.UserContext(), principal(c), q)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/reports/"+r.ID)
	return c.Status(fiber.StatusCreated).JSON(r)
}

// listParams are the query parameters of the report listing.
var listParams = map[string]httpapi.QueryParam{"type": {}, "definition_id": {}, "limit": {}, "cursor": {}}

// list answers a page of the reports the caller may see, newest first.
func (h *handlers) list(c *fiber.Ctx) error {
	var f report.Filter
	err := httpapi.ReadQuery(c, "parameter", listParams, func(key, val string) error {
		switch key {
		case "type":
			f.Type = val
		case "definition_id":
			f.DefinitionID = val
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > report.MaxLimit {
				return activity.Errorf(activity.EINVALID, "limit", "limit must be a whole number between 1 and %d", report.MaxLimit)
			}
			f.Limit = n
		case "cursor":
			f.Cursor = val
		}
		return nil
	})
	if err != nil {
		return err
	}
	page, err := h.service.List(c.UserContext(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// find answers one kept report with its result.
func (h *handlers) find(c *fiber.Ctx) error {
	if err := noQuery(c); err != nil {
		return err
	}
	r, err := h.service.Find(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// exportParams are the query parameters of a report's download.
var exportParams = map[string]httpapi.QueryParam{"format": {}}

// export answers a kept report as a file to download: format pdf (the
// default), csv or json.
func (h *handlers) export(c *fiber.Ctx) error {
	format := report.FormatPDF
	err := httpapi.ReadQuery(c, "parameter", exportParams, func(_, val string) error {
		format = val
		return nil
	})
	if err != nil {
		return err
	}
	f, err := h.service.Export(c.UserContext(), principal(c), c.Params("id"), format)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(f.Body)
}

// noQuery refuses any query parameter, naming it.
func noQuery(c *fiber.Ctx) error {
	return httpapi.ReadQuery(c, "parameter", nil, func(string, string) error { return nil })
}
