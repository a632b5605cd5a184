package http

import (
	"context"
	"io"
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// routeArchive registers the workspace's archived files: generated
// exports, reports and backups, which its owners list and download.
func (s *Server) routeArchive(api fiber.Router) {
	api.Get("/archive", s.listArchive)
	api.Get("/archive/:kind/:file", s.downloadArchive)
}

// archiveKinds are the kinds a listing may ask for.
var archiveKinds = map[string]bool{domain.ArchiveExport: true, domain.ArchiveReport: true, domain.ArchiveBackup: true,
	domain.ArchiveRetained: true, domain.ArchiveManifest: true}

// listArchive answers the workspace's archived files, newest first, of the
// kind asked for or of every kind.
func (s *Server) listArchive(c *fiber.Ctx) error {
	var kind string
	err := httpapi.ReadQuery(c, "query parameter", map[string]httpapi.QueryParam{"kind": {}}, func(_, v string) error {
		if !archiveKinds[v] {
			return activity.Errorf(activity.EINVALID, "kind", "kind must be export, report, backup, retained or manifest")
		}
		kind = v
		return nil
	})
	if err != nil {
		return err
	}
	p := principal(c)
	if err := domain.Require(p, domain.ViewArchive); err != nil {
		return err
	}
	files, err := s.services.Archive.List(c.UserContext(), p.WorkspaceID, kind)
	if err != nil {
		return err
	}
	if files == nil {
		files = []domain.ArchiveObject{}
	}
	return c.JSON(fiber.Map{"files": files})
}

// downloadArchive streams one of the workspace's archived files, and
// records system.data_exported with its name and size before any of it
// leaves. A name of another workspace's file, or of none, is 404.
func (s *Server) downloadArchive(c *fiber.Ctx) error {
	if err := onlyQuery(c); err != nil {
		return err
	}
	p := principal(c)
	if err := domain.Require(p, domain.ViewArchive); err != nil {
		return err
	}
	name := c.Params("kind") + "/" + c.Params("file")
	if !domain.ValidArchiveName(name) {
		return activity.Errorf(activity.ENOTFOUND, "name", "no archived file %q", name)
	}
	// The answer is written after this handler returns, when the request's
	// own context has ended: the file is read under a context of its own,
	// which ends when the answer is written or its client gone. The store
	// bounds each read; the write window, each write: a large file sent
	// steadily takes as long as it takes.
	ctx, cancel := context.WithCancel(context.WithoutCancel(c.UserContext()))
	r, obj, err := s.services.Archive.Open(ctx, p.WorkspaceID, name)
	if err != nil {
		cancel()
		return err
	}
	body := &archiveBody{ReadCloser: r, cancel: cancel}
	if c.Method() == fiber.MethodHead {
		body.Close()
	} else {
		err = s.services.Settings.Record(c.UserContext(), p, domain.SystemAction{
			Action:   domain.ActionDataExported,
			Resource: activity.Resource{Type: obj.Kind, Name: obj.Name},
			Details:  map[string]any{"source": "archive", "kind": obj.Kind, "sha256": obj.SHA256, "bytes": obj.Size, "content_type": obj.ContentType},
		})
		if err != nil {
			body.Close()
			return err
		}
	}
	c.Set(fiber.HeaderContentType, obj.ContentType)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": c.Params("file")}))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderContentLength, strconv.FormatInt(obj.Size, 10))
		return nil
	}
	return c.SendStream(httpapi.NewWriteWindow(c, httpapi.StreamStall).Body(body), int(obj.Size))
}

// archiveBody is an archived file being sent; closing it, as the server
// does once the answer is written or has failed, ends its context.
type archiveBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *archiveBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
