package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fluxera/activity/audit"
	audithttp "github.com/fluxera/activity/audit/http"
	"github.com/fluxera/activity/dashboards"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/disk"
	domainhttp "github.com/fluxera/activity/domain/http"
	"github.com/fluxera/activity/domain/postgres"
	integrationhttp "github.com/fluxera/activity/integration/http"
	"github.com/fluxera/activity/privacy"
	privacyhttp "github.com/fluxera/activity/privacy/http"
	"github.com/fluxera/activity/report"
	reporthttp "github.com/fluxera/activity/report/http"
	"github.com/fluxera/activity/searchapi"
	searchhttp "github.com/fluxera/activity/searchapi/http"
	"github.com/fluxera/activity/searchapi/retention"
	retentionhttp "github.com/fluxera/activity/searchapi/retention/http"
)

// apiServer wires the domain API and the search routes onto one server and
// binds its listener.
func (m *Main) apiServer() (*domainhttp.Server, net.Listener, error) {
	db, err := m.Database()
	if err != nil {
		return nil, nil, err
	}
	finder, err := m.finder()
	if err != nil {
		return nil, nil, err
	}
	hasher, err := m.PasswordHasher()
	if err != nil {
		return nil, nil, err
	}
	// Cursors are signed, and login identifiers that are not emails
	// hashed, with keys derived from the secret key, which every instance
	// shares.
	secret, err := m.secretKey()
	if err != nil {
		return nil, nil, err
	}
	authCfg := m.Config.Auth
	authCfg.SecretKey = secret
	auth, err := postgres.NewAuthService(db, hasher, authCfg)
	if err != nil {
		return nil, nil, err
	}
	m.auth = auth
	users, err := postgres.NewUserService(db, hasher, m.Config.Auth)
	if err != nil {
		return nil, nil, err
	}
	var signup domain.SignupService
	if m.Config.SignupEnabled {
		if signup, err = postgres.NewSignupService(db, hasher, m.Config.Signup); err != nil {
			return nil, nil, err
		}
	}
	box, err := m.KeyBox()
	if err != nil {
		return nil, nil, err
	}
	assets := postgres.NewAssetService(db)
	assets.Images = disk.Store{Dir: m.Config.ImageDir}
	assets.ImagePolicy = domain.ImagePolicy{MaxBytes: int64(m.Config.ImageMaxBytes)}
	archive, err := m.Archive()
	if err != nil {
		return nil, nil, err
	}
	// Webhook and chat URLs are checked when saved against the policy the
	// notifier connects with: public addresses only.
	targets := m.Config.Targets
	settings := postgres.NewSettingsService(db)
	licenses := postgres.NewLicenseService(db, box)
	denials := postgres.NewAccessRecorder(db)
	invitations := postgres.NewInvitationService(db, hasher, m.Config.InvitationTTL)
	srv := domainhttp.NewServer(m.Config.HTTP, domainhttp.Services{
		Auth:          auth,
		Authenticator: auth,
		Users:         users,
		Tokens:        postgres.NewTokenService(db),
		Invitations:   invitations,
		Signup:        signup,
		Assets:        assets,
		Licenses:      licenses,
		Settings:      settings,
		AlertRules:    postgres.NewAlertRuleService(db, targets),
		Alerts:        postgres.NewAlertService(db),
		Detection:     postgres.NewDetectionService(db, box, targets),
		Denials:       denials,
		Archive:       archive,
		Holds:         postgres.NewHoldService(db),
		Ready:         []domainhttp.ReadyCheck{{Name: "database", Check: db.Ping}},
	}, m.Log.WithField("component", "api"))
	// The live stream comes before the search routes, whose
	// /activity/:id would take "stream" for an id.
	streams, err := m.activityStreams()
	if err != nil {
		return nil, nil, err
	}
	streams.Register(srv.API)
	webhooks := postgres.NewWebhookService(db, box, targets)
	integrationhttp.RegisterWebhooks(srv.API, webhooks)
	chain, err := m.Chain()
	if err != nil {
		return nil, nil, err
	}
	logViews := postgres.NewLogViewService(db, m.Config.LogViewDebounce)
	// Metrics are served on the ops address only (see serveOps), never to
	// the API's public.
	searchhttp.Register(srv.API, searchhttp.Services{
		Finder: finder, Analyst: finder, Entries: finder, Scanner: finder,
		Exports: settings, Log: m.Log.WithField("component", "export"),
		Feed:        searchapi.NewFeed(finder, secret),
		AlertTimes:  postgres.NewAlertService(db),
		Checkpoints: chain,
		LogViews:    logViews,
	})
	retentionhttp.Register(srv.API, &retention.Deleter{Settings: settings, Holds: postgres.NewHoldService(db), Index: finder, Archive: archive, Locks: postgres.NewArchiveLocks(db)})
	restorer := &retention.Restorer{Restores: postgres.NewRestoreStore(db), Archive: archive, MaxDays: m.Config.Retention.RestoreMaxDays}
	retentionhttp.RegisterRestores(srv.API, restorer)
	auditSvc, err := m.Audit()
	if err != nil {
		return nil, nil, err
	}
	audithttp.Register(srv.API, auditSvc)
	privacySvc, err := m.Privacy()
	if err != nil {
		return nil, nil, err
	}
	privacyhttp.Register(srv.API, privacySvc)
	privacyhttp.RegisterAccess(srv.API, &privacy.Access{Holders: postgres.NewPrivacyStore(db), Entries: finder}, postgres.NewPrivacyStore(db), m.Log.WithField("component", "export"))
	reports := report.NewService(finder, postgres.NewAlertService(db), postgres.NewReportStore(db), settings)
	reporthttp.Register(srv.API, reports,
		report.NewDefinitions(postgres.NewReportDefinitionStore(db), targets, finder, archive))
	// The console shares the server, its session cookie and the services
	// above; it takes the paths outside /api/v1.
	m.choices = postgres.NewChoiceService(db)
	console, err := dashboards.New(
		dashboards.Config{CookieName: srv.SessionCookieName(), Cookie: srv.SessionCookie, CookieSecure: m.Config.HTTP.CookieSecure,
			Retention: m.Config.Postgres.Retention},
		dashboards.Services{
			Auth: auth, Authenticator: auth, Users: users, Assets: assets, Licenses: licenses,
			Choices: m.choices,
			Finder:  finder, Entries: finder, Reports: reports, Denials: denials, Invitations: invitations,
			Settings: settings, AlertRules: postgres.NewAlertRuleService(db, targets), Alerts: postgres.NewAlertService(db),
			Detection: postgres.NewDetectionService(db, box, targets),
			Analyst:   finder, AlertTimes: postgres.NewAlertService(db), Webhooks: webhooks,
			LogViews: logViews, Restores: restorer,
		}, m.Log.WithField("component", "console"))
	if err != nil {
		return nil, nil, err
	}
	console.Register(srv.App)
	srv.NotFound()
	ln, err := net.Listen("tcp", m.Config.HTTP.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", m.Config.HTTP.Addr, err)
	}
	m.HTTPAddr, m.API = ln.Addr().String(), srv
	return srv, ln, nil
}

// Audit returns the verification of workspaces' logs: the chains and
// checkpoints in the domain database, the entries in the search index and
// those the retention job moved to the archive.
func (m *Main) Audit() (*audit.Service, error) {
	chain, err := m.Chain()
	if err != nil {
		return nil, err
	}
	finder, err := m.finder()
	if err != nil {
		return nil, err
	}
	archive, err := m.Archive()
	if err != nil {
		return nil, err
	}
	index := retention.WithArchive{Archive: archive, Index: searchapi.ChainIndex{Reader: finder}}
	return &audit.Service{Store: chain, Index: index}, nil
}

func serveFiber(ctx context.Context, srv *domainhttp.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

func serveOps(ctx context.Context, ln net.Listener, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
