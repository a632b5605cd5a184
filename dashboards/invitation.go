package dashboards

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// invitationView is the page an invitation link opens: the invited person
// chooses a password (and may correct their name) to join, or declines.
type invitationView struct {
	view
	Token, Name string
	// Error and ErrorField say why the answer was refused.
	Error, ErrorField string
	// Declined says the invitation was declined.
	Declined bool
}

// maxTokenLen bounds the token a link may carry; real ones are far shorter.
const maxTokenLen = 512

// invitationPage shows the answer form for the link's token. The token is
// checked when the form is sent, with the same service as the API's, so
// the page itself tells nothing about whether a token exists.
func (c *Console) invitationPage(ctx *fiber.Ctx) error {
	v := &invitationView{view: c.baseView(ctx, "Join your team"), Token: ctx.Query("token")}
	if v.Token == "" || len(v.Token) > maxTokenLen {
		v.Error, v.ErrorField = "this link carries no invitation; open the link from your invitation again", "token"
		return c.render(ctx.Status(fiber.StatusBadRequest), "invitation", v)
	}
	return c.render(ctx, "invitation", v)
}

// acceptInvitation accepts the invitation with the chosen password through
// the API's invitation service, which records it, then signs the new
// member in as the sign-in page would.
func (c *Console) acceptInvitation(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	in := domain.InvitationAnswer{Token: ctx.FormValue("token"), Name: strings.TrimSpace(ctx.FormValue("name")), Password: ctx.FormValue("password")}
	v := &invitationView{view: c.baseView(ctx, "Join your team"), Token: in.Token, Name: in.Name}
	if len(in.Token) > maxTokenLen {
		in.Token = ""
	}
	if in.Password != ctx.FormValue("confirm") {
		v.Error, v.ErrorField = "the two passwords differ", "confirm"
		return c.render(ctx.Status(fiber.StatusBadRequest), "invitation", v)
	}
	u, err := c.svc.Invitations.Accept(ctx.UserContext(), in)
	if err != nil {
		return c.invitationRefused(ctx, v, err)
	}
	res, err := c.svc.Auth.Login(ctx.UserContext(), domain.Credentials{Email: u.Email, Password: in.Password})
	if err != nil {
		// The account is made; only the sign-in failed (a throttle, say).
		return ctx.Redirect("/login", fiber.StatusSeeOther)
	}
	ctx.Cookie(c.cfg.Cookie(res.Token, res.ExpiresAt))
	return ctx.Redirect("/", fiber.StatusSeeOther)
}

// declineInvitation declines the invitation through the API's service,
// which records it.
func (c *Console) declineInvitation(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	in := domain.InvitationAnswer{Token: ctx.FormValue("token")}
	v := &invitationView{view: c.baseView(ctx, "Invitation declined"), Token: in.Token}
	if len(in.Token) > maxTokenLen {
		in.Token = ""
	}
	if err := c.svc.Invitations.Decline(ctx.UserContext(), in); err != nil {
		return c.invitationRefused(ctx, v, err)
	}
	v.Declined, v.Token = true, ""
	return c.render(ctx, "invitation", v)
}

// invitationRefused shows the form again with the reason the service gave,
// under the status the API would answer with; any other failure is the
// console's error page.
func (c *Console) invitationRefused(ctx *fiber.Ctx, v *invitationView, err error) error {
	switch activity.ErrorCode(err) {
	case activity.EINVALID, activity.ENOTFOUND, activity.ECONFLICT, activity.ETOOMANY, activity.EUNAUTHORIZED:
	default:
		return err
	}
	status, _ := httpapi.Describe(err)
	v.Error, v.ErrorField = activity.ErrorMessage(err), activity.ErrorField(err)
	return c.render(ctx.Status(status), "invitation", v)
}
