package http

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
	"github.com/fluxera/activity/privacy"
	"github.com/fluxera/activity/searchapi"
)

// Recorder records a subject access export as system.data_exported, by
// whoever asked, whatever their role.
type Recorder interface {
	RecordExport(ctx context.Context, p activity.Principal, a domain.SystemAction) error
}

// RegisterAccess mounts GET /me/data-export and /users/:id/data-export on
// api, a router whose requests already carry their principal.
func RegisterAccess(api fiber.Router, access *privacy.Access, rec Recorder, log logrus.FieldLogger) {
	h := &accessHandlers{access: access, rec: rec, log: log}
	api.Get("/me/data-export", h.export(false))
	api.Get("/users/:id/data-export", h.export(true))
}

type accessHandlers struct {
	access *privacy.Access
	rec    Recorder
	log    logrus.FieldLogger
}

// recordTimeout bounds recording an export once it has ended.
const recordTimeout = 10 * time.Second

// export answers everything recorded about the person as one JSON
// document: when it was made, the account, sessions and API tokens, then
// every entry they took part in, streamed as the log is read so that only
// a page of entries is held. The export is recorded as
// system.data_exported once its entries are written; one cut off is
// recorded as incomplete and its JSON is left unfinished.
func (h *accessHandlers) export(byID bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := httpapi.ReadQuery(c, "parameter", nil, func(string, string) error { return nil }); err != nil {
			return err
		}
		p, _ := activity.PrincipalFrom(c.UserContext())
		id := ""
		if byID {
			id = c.Params("id")
		}
		subject, err := h.access.Subject(p, id)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		data, err := h.access.PersonalData(ctx, p, subject)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		head, err := json.Marshal(map[string]any{"generated_at": now, "user_id": subject, "personal_data": data})
		if err != nil {
			return err
		}
		name := "personal-data-" + subject + "-" + now.Format("20060102T150405Z") + ".json"
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		route := c.Route().Path
		window := httpapi.NewWriteWindow(c, httpapi.StreamStall)
		scanCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			defer cancel()
			// The head without its closing brace, then the entries.
			w.Write(head[:len(head)-1])
			w.WriteString(`,"entries":[`)
			written := 0
			n, err := h.access.ScanEntries(scanCtx, p, subject, func(e searchapi.Entry) error {
				b, err := json.Marshal(e)
				if err != nil {
					return err
				}
				if written > 0 {
					w.WriteByte(',')
				}
				if _, err := w.Write(b); err != nil {
					return err
				}
				if written++; written%256 == 0 {
					window.Give()
				}
				return nil
			})
			complete := err == nil
			recCtx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			defer rcancel()
			rerr := h.rec.RecordExport(recCtx, p, domain.SystemAction{
				Action:   domain.ActionDataExported,
				Resource: activity.Resource{Type: "export", Name: name},
				Details:  map[string]any{"dataset": "personal_data", "format": "json", "route": route, "user_id": subject, "entries": n, "complete": complete},
			})
			if err != nil || rerr != nil {
				h.log.WithError(errors.Join(err, rerr)).WithField("user_id", subject).Error("A personal data export was cut off.")
				window.Abort()
				return
			}
			fmt.Fprintf(w, `],"entries_count":%d,"complete":true}`, n)
			w.Flush()
		})
		return nil
	}
}
