// Package http serves the domain API over HTTP with fiber: login, assets and
// the other resources, behind session authentication. Other components
// mount their routes on the authenticated API router.
package http

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sirupsen/logrus"

	"github.com/fluxera/activity/alert"
	"github.com/fluxera/activity/domain"
)

// SessionCookie is the name of the cookie that carries the session token.
const SessionCookie = "fluxera_session"

// Config tunes the HTTP server.
type Config struct {
	Addr string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// CookieSecure marks the session cookie Secure (set it behind HTTPS).
	CookieSecure bool
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int
	// RequestTimeout is the longest a request may take: its context, and
	// every call made under it, end then, or earlier if the client goes
	// away.
	RequestTimeout time.Duration
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
	return nil
}

// Services are what the handlers call.
type Services struct {
	Auth          domain.AuthService
	Authenticator domain.Authenticator
	Users         domain.UserService
	Tokens        domain.TokenService
	Invitations   domain.InvitationService
	Assets        domain.AssetService
	Licenses      domain.LicenseService
	Settings      domain.SettingsService
	AlertRules    alert.AlertRuleService
	Alerts        alert.AlertService
	Detection     alert.DetectionService
	// Denials records requests refused with 403; without it they are
	// answered all the same.
	Denials domain.AccessRecorder
	// Ready reports whether the dependencies needed to serve are up.
	Ready func(ctx context.Context) error
}

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
	s := &Server{cfg: cfg, services: services, log: log}
	s.App = fiber.New(fiber.Config{
		AppName:               "fluxera",
		DisableStartupMessage: true,
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          s.handleError,
	})
	s.App.Use(s.recoverPanics, s.requestContext, s.deadline)
	s.App.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.App.Get("/readyz", s.ready)

	public := s.App.Group("/api/v1")
	public.Post("/auth/login", s.login)
	public.Post("/auth/logout", s.logout)
	public.Post("/invitations/accept", s.acceptInvitation)
	public.Post("/invitations/decline", s.declineInvitation)

	s.API = s.App.Group("/api/v1", s.requireAuth)
	s.routeAccount(s.API)
	s.routeUsers(s.API)
	s.routeAssets(s.API)
	s.routeLicenses(s.API)
	s.routeSettings(s.API)
	s.routeAlerts(s.API)
	return s
}

// NotFound answers every route no one registered. Register it last.
func (s *Server) NotFound() {
	s.App.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "no such endpoint: "+c.Method()+" "+c.Path())
	})
}

// Listen serves until Shutdown.
func (s *Server) Listen() error { return s.App.Listen(s.cfg.Addr) }

// Shutdown stops accepting requests and waits for the running ones.
func (s *Server) Shutdown(ctx context.Context) error { return s.App.ShutdownWithContext(ctx) }

func (s *Server) ready(c *fiber.Ctx) error {
	if s.services.Ready != nil {
		if err := s.services.Ready(c.UserContext()); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": err.Error()})
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
