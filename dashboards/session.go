package dashboards

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// csrfCookie is the name of the cookie that holds the console's CSRF
// token, without the __Host- prefix it has when it is Secure.
const csrfCookie = "fluxera_csrf"

// csrfField is the form field every console form posts the token in.
const csrfField = "csrf"

// errCrossSite refuses a form that did not come from the console's own
// pages.
var errCrossSite = activity.Errorf(activity.EFORBIDDEN, "",
	"this form was not sent from Fluxera's own pages; reload the page and send it again")

func (c *Console) csrfName() string {
	if c.cfg.CookieSecure {
		return "__Host-" + csrfCookie
	}
	return csrfCookie
}

// csrfToken returns the request's CSRF token, setting a new one in its
// cookie when the browser has none yet. The token is compared with the
// form's on every post (double submit); the cookie is SameSite=Strict, so
// another site's form never carries it.
func (c *Console) csrfToken(ctx *fiber.Ctx) string {
	if t, ok := ctx.Locals("csrf").(string); ok {
		return t
	}
	if t := ctx.Cookies(c.csrfName()); len(t) == 43 {
		return t
	}
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	ctx.Cookie(&fiber.Cookie{
		Name: c.csrfName(), Value: t, Path: "/", HTTPOnly: true, Secure: c.cfg.CookieSecure,
		SameSite: fiber.CookieSameSiteStrictMode, Expires: c.now().Add(24 * time.Hour),
	})
	ctx.Locals("csrf", t)
	return t
}

// checkForm returns EFORBIDDEN unless a posted form carries the CSRF
// token of its cookie and the browser says it comes from the same origin
// (Sec-Fetch-Site), when it says.
func (c *Console) checkForm(ctx *fiber.Ctx) error {
	if site := ctx.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCrossSite
	}
	cookie, form := ctx.Cookies(c.csrfName()), ctx.FormValue(csrfField)
	if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
		return errCrossSite
	}
	return nil
}

// signedIn resolves the session cookie to the caller and runs h with the
// caller in the request's context; without a live session it sends the
// browser to the sign-in page, which brings it back here afterwards.
func (c *Console) signedIn(h fiber.Handler) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		token := ctx.Cookies(c.cfg.CookieName)
		if token != "" {
			p, err := c.svc.Authenticator.Authenticate(ctx.UserContext(), token)
			switch {
			case err == nil:
				ctx.SetUserContext(activity.WithPrincipal(ctx.UserContext(), p))
				return h(ctx)
			case activity.ErrorCode(err) != activity.EUNAUTHORIZED:
				return err
			}
		}
		next := ctx.OriginalURL()
		if partial(ctx) {
			// htmx follows a redirect inside the swap; send the whole
			// page to sign in instead.
			ctx.Set("HX-Redirect", "/login?next="+url.QueryEscape(next))
			return ctx.SendStatus(fiber.StatusUnauthorized)
		}
		return ctx.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
	}
}

// localPath returns next when it is a path on this site, and / otherwise,
// so that the sign-in page never sends anyone to another site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// loginView is the sign-in page.
type loginView struct {
	view
	Email string
	Next  string
	Error string
}

func (c *Console) loginPage(ctx *fiber.Ctx) error {
	v := &loginView{view: c.baseView(ctx, "Sign in"), Next: localPath(ctx.Query("next"))}
	if ctx.Query("signed_out") != "" {
		v.Notice = "You are signed out."
	}
	return c.render(ctx, "login", v)
}

// signIn checks the form and the credentials with the API's login
// service, which records the login or its failure, sets the session cookie
// and sends the browser on.
func (c *Console) signIn(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	next := localPath(ctx.FormValue("next"))
	creds := domain.Credentials{Email: strings.TrimSpace(ctx.FormValue("email")), Password: ctx.FormValue("password")}
	res, err := c.svc.Auth.Login(ctx.UserContext(), creds)
	if err != nil {
		code := activity.ErrorCode(err)
		if code != activity.EUNAUTHORIZED && code != activity.EINVALID && code != activity.ETOOMANY {
			return err
		}
		v := &loginView{view: c.baseView(ctx, "Sign in"), Email: creds.Email, Next: next, Error: activity.ErrorMessage(err)}
		status, _ := httpapi.Describe(err)
		return c.render(ctx.Status(status), "login", v)
	}
	ctx.Cookie(c.cfg.Cookie(res.Token, res.ExpiresAt))
	return ctx.Redirect(next, fiber.StatusSeeOther)
}

// signOut ends the session with the API's logout service, which records
// it, and clears the cookie.
func (c *Console) signOut(ctx *fiber.Ctx) error {
	if err := c.checkForm(ctx); err != nil {
		return err
	}
	if token := ctx.Cookies(c.cfg.CookieName); token != "" {
		if err := c.svc.Auth.Logout(ctx.UserContext(), token); err != nil {
			return err
		}
	}
	ctx.Cookie(c.cfg.Cookie("", time.Unix(0, 0)))
	return ctx.Redirect("/login?signed_out=1", fiber.StatusSeeOther)
}

// home sends the caller to the workspace's activity log, or to their own
// activity when their role sees only that.
func (c *Console) home(ctx *fiber.Ctx) error {
	p, _ := activity.PrincipalFrom(ctx.UserContext())
	if domain.Can(p.Role, domain.ViewWorkspaceLog) {
		return ctx.Redirect("/settings/activity-log", fiber.StatusSeeOther)
	}
	return ctx.Redirect("/me/activity", fiber.StatusSeeOther)
}
