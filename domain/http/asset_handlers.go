package http

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/csvsafe"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeAssets registers assets, their maintenance and images.
func (s *Server) routeAssets(api fiber.Router) {
	api.Get("/assets", needs(domain.ViewInventory), s.listAssets)
	api.Post("/assets", s.createAsset)
	api.Get("/assets/export", s.exportAssets)
	api.Post("/assets/import", s.importAssets)
	api.Get("/assets/:id", needs(domain.ViewInventory), s.findAsset)
	api.Patch("/assets/:id", s.updateAsset)
	api.Delete("/assets/:id", s.deleteAsset)
	api.Post("/assets/:id/assign", s.assignAsset)
	api.Post("/assets/:id/unassign", s.unassignAsset)
	api.Put("/assets/:id/status", s.changeAssetStatus)
	api.Get("/assets/:id/maintenance", needs(domain.ViewInventory), s.listMaintenance)
	api.Post("/assets/:id/maintenance", s.scheduleMaintenance)
	api.Post("/assets/:id/maintenance/:mid/complete", s.completeMaintenance)
	api.Get("/assets/:id/images", needs(domain.ViewInventory), s.listImages)
	api.Post("/assets/:id/images", s.uploadImage)
	api.Get("/assets/:id/images/:iid", needs(domain.ViewInventory), s.imageFile)
}

// noteBody is the body of actions that take only an optional note.
type noteBody struct {
	Note string `json:"note"`
}

func (s *Server) listAssets(c *fiber.Ctx) error {
	as, err := s.services.Assets.ListAssets(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"assets": as})
}

func (s *Server) createAsset(c *fiber.Ctx) error {
	var in domain.AssetCreate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.CreateAsset(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

func (s *Server) findAsset(c *fiber.Ctx) error {
	a, err := s.services.Assets.FindAsset(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) updateAsset(c *fiber.Ctx) error {
	var in domain.AssetUpdate
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.UpdateAsset(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) deleteAsset(c *fiber.Ctx) error {
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	if err := s.services.Assets.DeleteAsset(c.UserContext(), principal(c), c.Params("id"), in.Note); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) assignAsset(c *fiber.Ctx) error {
	var in domain.AssetAssignment
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.AssignAsset(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) unassignAsset(c *fiber.Ctx) error {
	var in noteBody
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.UnassignAsset(c.UserContext(), principal(c), c.Params("id"), in.Note)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) changeAssetStatus(c *fiber.Ctx) error {
	var in domain.StatusChange
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.services.Assets.ChangeStatus(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) listMaintenance(c *fiber.Ctx) error {
	ms, err := s.services.Assets.ListMaintenance(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"maintenance": ms})
}

func (s *Server) scheduleMaintenance(c *fiber.Ctx) error {
	var in domain.MaintenanceSchedule
	if err := httpapi.DecodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.services.Assets.ScheduleMaintenance(c.UserContext(), principal(c), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) completeMaintenance(c *fiber.Ctx) error {
	var in domain.MaintenanceCompletion
	if err := httpapi.DecodeOptionalJSON(c, &in); err != nil {
		return err
	}
	m, err := s.services.Assets.CompleteMaintenance(c.UserContext(), principal(c), c.Params("id"), c.Params("mid"), in)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) listImages(c *fiber.Ctx) error {
	is, err := s.services.Assets.ListImages(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"images": is})
}

// uploadImage takes one file in the multipart form field "file".
func (s *Server) uploadImage(c *fiber.Ctx) error {
	mt, params, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != fiber.MIMEMultipartForm {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the image as multipart/form-data in the field \"file\"")
	}
	upload, err := formFile(httpapi.Body(c), params["boundary"], "file")
	if err != nil {
		return err
	}
	img, err := s.services.Assets.UploadImage(c.UserContext(), principal(c), c.Params("id"), upload)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(img)
}

// maxFormParts bounds the parts of an upload's form, which needs one.
const maxFormParts = 16

// formFile reads the file in the form field named field of a
// multipart/form-data body with the given boundary, from the body as sent.
// It returns EINVALID naming the field for a form without that file, with
// too many parts, or that cannot be read.
func formFile(body []byte, boundary, field string) (domain.ImageUpload, error) {
	if boundary == "" {
		return domain.ImageUpload{}, activity.Errorf(activity.EINVALID, field, "the multipart form has no boundary")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for range maxFormParts {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return domain.ImageUpload{}, activity.Errorf(activity.EINVALID, field, "the multipart form cannot be read: it is malformed or cut short")
		}
		if part.FormName() != field {
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return domain.ImageUpload{}, activity.Errorf(activity.EINVALID, field, "the multipart form cannot be read: it is malformed or cut short")
		}
		return domain.ImageUpload{FileName: part.FileName(), Data: data}, nil
	}
	return domain.ImageUpload{}, activity.Errorf(activity.EINVALID, field, "the form has no file in the field %q among its first %d parts", field, maxFormParts)
}

func (s *Server) imageFile(c *fiber.Ctx) error {
	img, data, err := s.services.Assets.ImageFile(c.UserContext(), principal(c), c.Params("id"), c.Params("iid"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("inline", map[string]string{"filename": img.FileName}))
	return c.Send(data)
}

// exportAssets answers the workspace's assets as CSV and records
// system.data_exported before any of it leaves.
func (s *Server) exportAssets(c *fiber.Ctx) error {
	format := "csv"
	err := httpapi.ReadQuery(c, "query parameter", map[string]httpapi.QueryParam{"format": {}}, func(_, v string) error {
		format = v
		return nil
	})
	if err != nil {
		return err
	}
	if format != "csv" {
		return activity.Errorf(activity.EINVALID, "format", "format must be csv")
	}
	p := principal(c)
	if err := domain.Require(p, domain.ExportData); err != nil {
		return err
	}
	as, err := s.services.Assets.ListAssets(c.UserContext(), p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "name", "asset_tag", "serial", "category", "status", "value", "currency", "location", "purchase_date", "assigned_to", "created_at"})
	for _, a := range as {
		var day, assignee string
		if a.PurchaseDate != nil {
			day = a.PurchaseDate.String()
		}
		if a.AssignedTo != nil {
			assignee = a.AssignedTo.String()
		}
		w.Write(csvsafe.Cells(a.ID, a.Name, a.AssetTag, a.Serial, a.Category, a.Status, a.Value, a.Currency, a.Location, day, assignee, a.CreatedAt.UTC().Format(time.RFC3339)))
	}
	w.Flush()
	name := "assets-" + time.Now().UTC().Format("20060102-150405") + ".csv"
	err = s.services.Settings.Record(c.UserContext(), p, domain.SystemAction{
		Action:   domain.ActionDataExported,
		Resource: activity.Resource{Type: "export", Name: name},
		Details:  map[string]any{"dataset": "assets", "format": "csv", "rows": len(as), "bytes": buf.Len()},
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// importColumnNames lists the columns an import may have, for refusals.
const importColumnNames = "name, asset_tag, serial, category, status, value, currency, location, purchase_date, note"

// importColumns are the columns an import may have; name is required.
var importColumns = map[string]func(a *domain.AssetCreate, v string) error{
	"name":      func(a *domain.AssetCreate, v string) error { a.Name = v; return nil },
	"asset_tag": func(a *domain.AssetCreate, v string) error { a.AssetTag = v; return nil },
	"serial":    func(a *domain.AssetCreate, v string) error { a.Serial = v; return nil },
	"category":  func(a *domain.AssetCreate, v string) error { a.Category = v; return nil },
	"status":    func(a *domain.AssetCreate, v string) error { a.Status = v; return nil },
	"value":     func(a *domain.AssetCreate, v string) error { a.Value = v; return nil },
	"currency":  func(a *domain.AssetCreate, v string) error { a.Currency = v; return nil },
	"location":  func(a *domain.AssetCreate, v string) error { a.Location = v; return nil },
	"note":      func(a *domain.AssetCreate, v string) error { a.Note = v; return nil },
	"purchase_date": func(a *domain.AssetCreate, v string) error {
		if v == "" {
			return nil
		}
		d, err := domain.ParseDate(v)
		if err != nil {
			return err
		}
		a.PurchaseDate = &d
		return nil
	},
}

// importAssets reads a CSV file with a header row (text/csv) and creates
// every row as an asset, all or none.
func (s *Server) importAssets(c *fiber.Ctx) error {
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "text/csv" {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the import as text/csv with a header row")
	}
	r := csv.NewReader(bytes.NewReader(httpapi.Body(c)))
	header, err := r.Read()
	if err != nil {
		return activity.Errorf(activity.EINVALID, "", "the CSV has no header row")
	}
	setters := make([]func(*domain.AssetCreate, string) error, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		set, ok := importColumns[h]
		if !ok && activity.ValidateLine("column", h, 64) != nil {
			// Not a name to quote back.
			return activity.Errorf(activity.EINVALID, "", "the header row has a column that is not one of "+importColumnNames)
		}
		if !ok {
			return activity.Errorf(activity.EINVALID, h, "unknown column %q; use "+importColumnNames, h)
		}
		if seen[h] {
			return activity.Errorf(activity.EINVALID, h, "the column %q is given twice", h)
		}
		setters[i], seen[h] = set, true
	}
	if !seen["name"] {
		return activity.Errorf(activity.EINVALID, "name", "the CSV needs a name column")
	}
	var rows []domain.AssetCreate
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return activity.Errorf(activity.EINVALID, "", "malformed CSV: %v", err)
		}
		if len(rows) == domain.MaxImportRows {
			return activity.Errorf(activity.EINVALID, "rows", "the import has more than %d rows", domain.MaxImportRows)
		}
		var a domain.AssetCreate
		for i, v := range rec {
			if err := setters[i](&a, v); err != nil {
				return activity.Errorf(activity.EINVALID, fmt.Sprintf("rows[%d].%s", len(rows), strings.TrimSpace(header[i])), "row %d: %s", len(rows)+1, activity.ErrorMessage(err))
			}
		}
		rows = append(rows, a)
	}
	as, err := s.services.Assets.ImportAssets(c.UserContext(), principal(c), rows)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"imported": len(as), "assets": as})
}

// onlyQuery returns EINVALID for a query parameter not in allowed.
func onlyQuery(c *fiber.Ctx, allowed ...string) error {
	params := map[string]httpapi.QueryParam{}
	for _, a := range allowed {
		params[a] = httpapi.QueryParam{Repeatable: true, MayBeEmpty: true}
	}
	return httpapi.ReadQuery(c, "query parameter", params, func(string, string) error { return nil })
}
