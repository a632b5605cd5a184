package http

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// resourceTypes names the resource of each top-level API path.
var resourceTypes = map[string]string{
	"assets": "asset", "licenses": "license", "users": "user",
	"invitations": "invitation", "tokens": "api_token",
	"alert-rules": "alert_rule", "alerts": "alert", "reports": "report",
	"report-definitions": "report_definition",
}

// recordDenied records the refusal of c's request, when it has a caller.
// A failure to record is logged and changes nothing of the answer.
func (s *Server) recordDenied(c *fiber.Ctx, err error) {
	p, ok := activity.PrincipalFrom(c.UserContext())
	if !ok || s.services.Denials == nil {
		return
	}
	d := domain.AccessDenial{
		Method:   c.Method(),
		Path:     c.Path(),
		Resource: requestedResource(p, c.Path()),
		Reason:   activity.ErrorMessage(err),
	}
	if r := c.Route(); r != nil {
		d.Route = r.Path
	}
	if err := s.services.Denials.RecordAccessDenied(c.UserContext(), p, d); err != nil {
		s.log.WithError(err).WithFields(map[string]any{"method": d.Method, "path": d.Path, "request_id": requestID(c)}).Error("A refused request could not be recorded.")
	}
}

// requestedResource reads what an API path is about: /api/v1/assets/<id>/…
// is that asset, /api/v1/me the caller, /api/v1/settings and
// /api/v1/detection the workspace, /api/v1/archive/<kind>/<file> that
// archived file. It returns a zero resource for any other path.
func requestedResource(p activity.Principal, path string) activity.Resource {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, "/api/v1"), "/"), "/")
	switch parts[0] {
	case "me":
		return activity.Resource{Type: "user", ID: p.UserID, Name: p.Name}
	case "settings", "detection":
		return activity.Resource{Type: "workspace", ID: p.WorkspaceID}
	case "archive":
		res := activity.Resource{Type: "archive_file"}
		if name := strings.Join(parts[1:], "/"); domain.ValidArchiveName(name) {
			res.Name = name
		}
		return res
	}
	typ, ok := resourceTypes[parts[0]]
	if !ok {
		return activity.Resource{}
	}
	res := activity.Resource{Type: typ}
	if len(parts) > 1 && uuid.Validate(parts[1]) == nil {
		res.ID = strings.ToLower(parts[1])
	}
	return res
}
