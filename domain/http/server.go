// Package http serves the domain API over HTTP with fiber: login, assets and
// the other resources, behind session authentication. Other components
// mount their routes on the authenticated API router.
package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"
	"github.com/valyala/fasthttp"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/internal/httpapi"
)

// SessionCookie is the name of the cookie that carries the session token,
// without the __Host- prefix it has when it is Secure (see
// Config.SessionCookieName).
const SessionCookie = "fluxera_session"

// DefaultWriteTimeout is the write timeout of a Config without one.
const DefaultWriteTimeout = 120 * time.Second

// maxHeaderBytes bounds a request's line and headers together; a request
// with more is answered 431.
const maxHeaderBytes = 16 << 10

// Config tunes the HTTP server.
type Config struct {
	Addr string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// CookieSecure marks the session cookie Secure and gives it the __Host-
	// prefix. FLUXERA_COOKIE_SECURE sets it, true unless said otherwise;
	// only plain HTTP, as on the local stack, goes without.
	CookieSecure bool
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// RequestTimeout is the longest a request may take: its context, and
	// every call made under it, end then, or earlier if the client goes
	// away.
	RequestTimeout time.Duration
	// WriteTimeout bounds the writing of an answer; a download goes on
	// past it as long as its client keeps taking in what it is sent.
	// DefaultWriteTimeout unless said otherwise.
	WriteTimeout time.Duration
}

// SessionCookieName is the name the session cookie is set and read under:
// SessionCookie, with the __Host- prefix when the cookie is Secure, so that
// browsers keep it only from this host, over HTTPS, for the whole site.
func (c Config) SessionCookieName() string {
	if c.CookieSecure {
		return "__Host-" + SessionCookie
	}
	return SessionCookie
}

// DefaultRequestTimeout is the request timeout of a Config without one.
const DefaultRequestTimeout = 30 * time.Second

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RequestTimeout < 0 {
		return fmt.Errorf("http: the request timeout must be positive")
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.WriteTimeout < 0 {
		return fmt.Errorf("http: the write timeout must be positive")
	}
	return nil
}

// Services are what the handlers call.
type Services struct {
	Auth          domain.AuthService
	Authenticator domain.Authenticator
	Users         domain.UserService
	Tokens        domain.TokenService
	Invitations   domain.InvitationService
	// Signup creates workspaces for people who sign up themselves; without
	// it POST /api/v1/signup answers 404.
	Signup     domain.SignupService
	Assets     domain.AssetService
	Licenses   domain.LicenseService
	Settings   domain.SettingsService
	AlertRules alert.AlertRuleService
	Alerts     alert.AlertService
	Detection  alert.DetectionService
	// Archive keeps the workspaces' generated exports, reports and
	// backups, which their owners list and download.
	Archive domain.ArchiveStore
	// Holds keeps the workspaces' legal holds.
	Holds domain.HoldService
	// Denials records requests refused with 403; without it they are
	// answered all the same.
	Denials domain.AccessRecorder
	// Ready are the dependencies needed to serve, each checked by /readyz.
	Ready []ReadyCheck
}

// ReadyCheck is one dependency /readyz checks: its name, as /readyz reports
// it when it fails, and a check that returns an error while it is down.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// readyTimeout bounds each readiness check, so that a dependency that hangs
// reads as down instead of holding /readyz.
const readyTimeout = 5 * time.Second

// Server is the HTTP front of the platform.
type Server struct {
	App *fiber.App
	// API is the authenticated /api/v1 router; every request on it carries
	// its principal in the user context.
	API fiber.Router

	cfg      Config
	services Services
	log      logrus.FieldLogger
}

// NewServer builds the app and registers the domain routes.
func NewServer(cfg Config, services Services, log logrus.FieldLogger) *Server {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{cfg: cfg, services: services, log: log}
	s.App = fiber.New(fiber.Config{
		AppName:               "fluxera",
		DisableStartupMessage: true,
		BodyLimit:             cfg.BodyLimit,
		ReadBufferSize:        maxHeaderBytes,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          s.handleError,
	})
	s.refuseUnknownMethods()
	s.App.Use(s.recoverPanics, s.requestContext, s.deadline, httpapi.RefuseEncodedBodies)
	s.App.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.App.Get("/readyz", s.ready)

	public := s.App.Group("/api/v1")
	public.Post("/auth/login", s.login)
	public.Post("/auth/logout", s.logout)
	public.Post("/invitations/accept", s.acceptInvitation)
	public.Post("/invitations/decline", s.declineInvitation)
	public.Post("/signup", s.signup)
	public.Get("/openapi.json", s.openAPI)

	s.API = s.App.Group("/api/v1", s.requireAuth)
	s.routeAccount(s.API)
	s.routeUsers(s.API)
	s.routeAssets(s.API)
	s.routeLicenses(s.API)
	s.routeSettings(s.API)
	s.routeAlerts(s.API)
	s.routeArchive(s.API)
	s.routeHolds(s.API)
	return s
}

// refuseUnknownMethods answers a request with a method fiber does not know
// with 405 and a JSON error, as every other refusal; fiber itself would
// answer it in plain text before any handler. The Allow header lists the
// methods the path has routes for, as RFC 9110 asks of a 405 (empty for a
// path that has none).
func (s *Server) refuseUnknownMethods() {
	srv := s.App.Server()
	next := srv.Handler
	body, _ := json.Marshal(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Code: "method_not_allowed", Message: "unknown method; use one of " + strings.Join(fiber.DefaultMethods, ", ")}})
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		if !slices.Contains(fiber.DefaultMethods, string(ctx.Method())) {
			ctx.SetStatusCode(fiber.StatusMethodNotAllowed)
			ctx.Response.Header.Set(fiber.HeaderAllow, strings.Join(allowedMethods(s.App.GetRoutes(true), string(ctx.Path())), ", "))
			ctx.SetContentType(fiber.MIMEApplicationJSON)
			ctx.SetBody(body)
			return
		}
		next(ctx)
	}
}

// allowedMethods returns the methods of the routes whose path matches
// path, in the order fiber lists its methods.
func allowedMethods(routes []fiber.Route, path string) []string {
	found := map[string]bool{}
	for _, r := range routes {
		if routeMatches(r.Path, path) {
			found[r.Method] = true
		}
	}
	out := []string{}
	for _, m := range fiber.DefaultMethods {
		if found[m] {
			out = append(out, m)
		}
	}
	return out
}

// routeMatches reports whether path is one that the fiber route pattern
// matches: a :parameter stands for one segment (or none when it ends with
// ?), and * or + for the rest of the path.
func routeMatches(pattern, path string) bool {
	pat := strings.Split(strings.Trim(pattern, "/"), "/")
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) == 1 && seg[0] == "" {
		seg = nil
	}
	if len(pat) == 1 && pat[0] == "" {
		pat = nil
	}
	for i, p := range pat {
		switch {
		case p == "*":
			return true
		case p == "+":
			return i < len(seg)
		case i >= len(seg):
			return i == len(pat)-1 && strings.HasPrefix(p, ":") && strings.HasSuffix(p, "?")
		case strings.HasPrefix(p, ":"):
			if seg[i] == "" {
				return false
			}
		case !strings.EqualFold(p, seg[i]):
			return false
		}
	}
	return len(seg) == len(pat)
}

// NotFound answers every route no one registered. Register it last.
func (s *Server) NotFound() {
	s.App.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "no such endpoint: "+c.Method()+" "+c.Path())
	})
}

// Listen serves on the configured address until Shutdown.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown. A connection it closes reads what the
// client is still sending for a moment first, so that a refusal sent as
// the request was still arriving reaches the client.
func (s *Server) Serve(ln net.Listener) error { return s.App.Listener(lingeringListener{ln}) }

// Shutdown stops accepting requests and waits for the running ones.
func (s *Server) Shutdown(ctx context.Context) error { return s.App.ShutdownWithContext(ctx) }

// ready answers 200 when every dependency answers its check, and 503 with
// the names of those that do not otherwise. Their errors are logged, never
// answered.
func (s *Server) ready(c *fiber.Ctx) error {
	failing := []string{}
	for _, r := range s.services.Ready {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		err := r.Check(ctx)
		cancel()
		if err != nil {
			failing = append(failing, r.Name)
			s.log.WithError(err).WithFields(map[string]any{"dependency": r.Name, "request_id": requestID(c)}).Warn("A dependency is not ready.")
		}
	}
	if len(failing) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(readiness{Status: "unavailable", Failing: failing})
	}
	return c.JSON(readiness{Status: "ready"})
}

// readiness is the body of /readyz.
type readiness struct {
	Status  string   `json:"status"`
	Failing []string `json:"failing,omitempty"`
}
