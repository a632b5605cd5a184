package dashboards

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/searchapi"
)

// inventoryView lists the workspace's users, assets or licenses.
type inventoryView struct {
	view
	Users    []domain.User
	Assets   []domain.Asset
	Licenses []domain.License
}

func (c *Console) users(ctx *fiber.Ctx) error {
	v := &inventoryView{view: c.baseView(ctx, "Users")}
	v.Section = "users"
	users, err := c.svc.Users.ListUsers(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	v.Users = users
	return c.render(ctx, "users", v)
}

func (c *Console) assets(ctx *fiber.Ctx) error {
	v := &inventoryView{view: c.baseView(ctx, "Assets")}
	v.Section = "assets"
	assets, err := c.svc.Assets.ListAssets(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	v.Assets = assets
	return c.render(ctx, "assets", v)
}

func (c *Console) licenses(ctx *fiber.Ctx) error {
	v := &inventoryView{view: c.baseView(ctx, "Licenses")}
	v.Section = "licenses"
	licenses, err := c.svc.Licenses.ListLicenses(ctx.UserContext(), v.Principal)
	if err != nil {
		return err
	}
	v.Licenses = licenses
	return c.render(ctx, "licenses", v)
}

// pathID returns the page's id in the form the platform stores it, or
// ENOTFOUND.
func pathID(ctx *fiber.Ctx, kind string) (string, error) {
	id := ctx.Params("id")
	if !searchapi.IsID(id) {
		return "", activity.Errorf(activity.ENOTFOUND, "id", "no %s %q", kind, id)
	}
	return strings.ToLower(id), nil
}

// userTab opens a user on their Activity tab, the one tab the console has.
func (c *Console) userTab(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "user")
	if err != nil {
		return err
	}
	return ctx.Redirect("/users/"+id+"/activity", fiber.StatusSeeOther)
}

func (c *Console) assetTab(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "asset")
	if err != nil {
		return err
	}
	return ctx.Redirect("/assets/"+id+"/history", fiber.StatusSeeOther)
}

func (c *Console) licenseTab(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "license")
	if err != nil {
		return err
	}
	return ctx.Redirect("/licenses/"+id+"/history", fiber.StatusSeeOther)
}

// userActivity is Users › a user › Activity: what the user did and what
// was done to them (role changes, deactivation), failed logins included.
// Roles that see only their own actions may open only their own page; any
// other is refused, as the API refuses it.
func (c *Console) userActivity(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "user")
	if err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if id != p.UserID && !domain.Can(p.Role, domain.ViewWorkspaceLog) {
		return activity.Errorf(activity.EFORBIDDEN, "", "your role (%s) may see only your own activity, not another user's", p.Role)
	}
	u, err := c.svc.Users.FindUser(ctx.UserContext(), p, id)
	if err != nil {
		return err
	}
	s := &subject{Kind: "User", Name: u.Name, Detail: u.Email + " · " + u.Role, Tab: "Activity", Inactive: !u.Active}
	return c.list(ctx, listing{
		page: "log", title: u.Name + " · Activity", section: "users", path: "/users/" + id + "/activity", subject: s,
		narrow: func(f *searchapi.EventFilter) { f.Involving = id },
	})
}

// assetHistory is Assets › an asset › History.
func (c *Console) assetHistory(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "asset")
	if err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	a, err := c.svc.Assets.FindAsset(ctx.UserContext(), p, id)
	if err != nil {
		return err
	}
	detail := strings.Join(nonEmpty(a.AssetTag, a.Category, a.Status), " · ")
	return c.list(ctx, listing{
		page: "log", title: a.Name + " · History", section: "assets", path: "/assets/" + id + "/history",
		subject: &subject{Kind: "Asset", Name: a.Name, Detail: detail, Tab: "History"},
		notice:  ownOnly(p, "asset"),
		narrow:  func(f *searchapi.EventFilter) { f.Subject = &activity.Resource{Type: "asset", ID: id} },
	})
}

// licenseHistory is Licenses › a license › History.
func (c *Console) licenseHistory(ctx *fiber.Ctx) error {
	id, err := pathID(ctx, "license")
	if err != nil {
		return err
	}
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	l, err := c.svc.Licenses.FindLicense(ctx.UserContext(), p, id)
	if err != nil {
		return err
	}
	return c.list(ctx, listing{
		page: "log", title: l.Name + " · History", section: "licenses", path: "/licenses/" + id + "/history",
		subject: &subject{Kind: "License", Name: l.Name, Detail: strings.Join(nonEmpty(l.Vendor), " · "), Tab: "History"},
		notice:  ownOnly(p, "license"),
		narrow:  func(f *searchapi.EventFilter) { f.Subject = &activity.Resource{Type: "license", ID: id} },
	})
}

// ownOnly says, to a role that sees only its own actions, that a history
// shows only those.
func ownOnly(p activity.Principal, kind string) string {
	if domain.Can(p.Role, domain.ViewWorkspaceLog) {
		return ""
	}
	return "Your role (" + p.Role + ") sees only your own actions on this " + kind + "; owners and admins see everyone's."
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
