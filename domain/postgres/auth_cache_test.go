package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/argon2"
	"github.com/fluxera/activity/domain/postgres"
	"github.com/fluxera/activity/domain/postgres/postgrestest"
	"github.com/fluxera/activity/internal/stacktest"
)

// authProcesses opens n API processes' session services on one schema,
// each with its own pool and a cache of ttl whose listener runs until the
// test ends, and waits until every cache is in use.
func authProcesses(t *testing.T, n int, ttl time.Duration) ([]*postgres.DB, []*postgres.AuthService) {
	t.Helper()
	dbs := postgrestest.MustDBs(t, n)
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	auths := make([]*postgres.AuthService, n)
	for i, db := range dbs {
		auth, err := postgres.NewAuthService(db, hasher, postgres.AuthConfig{CacheTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		auths[i] = auth
		wg.Add(1)
		go func() { defer wg.Done(); auth.ListenForChanges(ctx, nil) }()
		if ttl > 0 {
			stacktest.Eventually(t, "the session cache listens", auth.CacheInUse)
		}
	}
	return dbs, auths
}

// mustSession creates a workspace and logs its owner in through auth.
func mustSession(t *testing.T, db *postgres.DB, auth *postgres.AuthService) domain.LoginResult {
	t.Helper()
	login, _ := mustSessionCredentials(t, db, auth)
	return login
}

// mustSessionCredentials is mustSession that returns the owner's
// credentials too.
func mustSessionCredentials(t *testing.T, db *postgres.DB, auth *postgres.AuthService) (domain.LoginResult, domain.Credentials) {
	t.Helper()
	email, password := postgrestest.MustWorkspace(t, db, argon2.Hasher{Params: postgrestest.Argon2}, "Cache "+stacktest.RandomID())
	creds := domain.Credentials{Email: email, Password: password}
	login, err := auth.Login(t.Context(), creds)
	if err != nil {
		t.Fatal(err)
	}
	return login, creds
}

// mustEndListener ends the connection listening on db's schema's channel
// of prefix: the one connection whose last statement listened on it.
func mustEndListener(t *testing.T, db *postgres.DB, prefix string) {
	t.Helper()
	var schema string
	if err := db.QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	var ended int
	err := db.QueryRowContext(t.Context(),
		"SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = ?) AS t",
		`LISTEN "`+prefix+schema+`"`).Scan(&ended)
	if err != nil || ended != 1 {
		t.Fatalf("ended %d listener connections, %v; want 1", ended, err)
	}
}

func mustExec(t *testing.T, db *postgres.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestAuthCacheDropsChangesInEveryProcess caches a caller in one process,
// changes it through another, and expects the first to refuse the token
// or to see the change without waiting for the cache's TTL (an hour).
func TestAuthCacheDropsChangesInEveryProcess(t *testing.T) {
	dbs, auths := authProcesses(t, 2, time.Hour)
	a, b := auths[0], auths[1]
	tokens := postgres.NewTokenService(dbs[0])
	users, err := postgres.NewUserService(dbs[0], argon2.Hasher{Params: postgrestest.Argon2}, postgres.AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]domain.Credentials{}
	tests := []struct {
		name string
		// api makes the caller an API token of the owner instead of the
		// session.
		api    bool
		change func(t *testing.T, login domain.LoginResult, token string) string
		// refused, or else want the principal to satisfy seen.
		refused bool
		seen    func(activity.Principal) bool
	}{
		{name: "logout", refused: true, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			if err := a.Logout(t.Context(), login.Token); err != nil {
				t.Fatal(err)
			}
			return login.Token
		}},
		{name: "session revoked", refused: true, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			mustExec(t, dbs[0], "UPDATE sessions SET ended_at = now() WHERE id = ?", login.SessionID)
			return login.Token
		}},
		{name: "user deactivated", refused: true, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			mustExec(t, dbs[0], "UPDATE users SET active = false WHERE id = ?", login.User.ID)
			return login.Token
		}},
		{name: "password changed", refused: true, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			// A password change through another session ends this one.
			other, err := a.Login(t.Context(), creds[login.User.ID])
			if err != nil {
				t.Fatal(err)
			}
			p, err := a.Authenticate(t.Context(), other.Token)
			if err != nil {
				t.Fatal(err)
			}
			in := domain.PasswordChange{CurrentPassword: creds[login.User.ID].Password, NewPassword: "a new password " + stacktest.RandomID()}
			if err := users.ChangePassword(t.Context(), p, in); err != nil {
				t.Fatal(err)
			}
			return login.Token
		}},
		{name: "role changed", seen: func(p activity.Principal) bool { return p.Role == activity.RoleViewer }, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			mustExec(t, dbs[0], "UPDATE users SET role = 'viewer' WHERE id = ?", login.User.ID)
			return login.Token
		}},
		{name: "time zone changed", seen: func(p activity.Principal) bool { return p.TimeZone == "Asia/Tokyo" }, change: func(t *testing.T, login domain.LoginResult, _ string) string {
			mustExec(t, dbs[0], "UPDATE workspaces SET time_zone = 'Asia/Tokyo' WHERE id = ?", login.User.WorkspaceID)
			return login.Token
		}},
		{name: "token revoked", api: true, refused: true, change: func(t *testing.T, login domain.LoginResult, token string) string {
			p, err := a.Authenticate(t.Context(), login.Token)
			if err != nil {
				t.Fatal(err)
			}
			id, err := b.Authenticate(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if err := tokens.RevokeToken(t.Context(), p, id.TokenID); err != nil {
				t.Fatal(err)
			}
			return token
		}},
		{name: "token rotated", api: true, refused: true, change: func(t *testing.T, login domain.LoginResult, token string) string {
			p, err := a.Authenticate(t.Context(), login.Token)
			if err != nil {
				t.Fatal(err)
			}
			id, err := b.Authenticate(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.RotateToken(t.Context(), p, id.TokenID); err != nil {
				t.Fatal(err)
			}
			return token
		}},
		{name: "token scopes changed", api: true, seen: func(p activity.Principal) bool { return len(p.Scopes) == 1 && p.Scopes[0] == "read" }, change: func(t *testing.T, _ domain.LoginResult, token string) string {
			id, err := b.Authenticate(t.Context(), token)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, dbs[0], "UPDATE api_tokens SET scopes = '{read}' WHERE id = ?", id.TokenID)
			return token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login, c := mustSessionCredentials(t, dbs[0], a)
			creds[login.User.ID] = c
			token := login.Token
			if tt.api {
				p, err := a.Authenticate(t.Context(), login.Token)
				if err != nil {
					t.Fatal(err)
				}
				created, err := tokens.CreateToken(t.Context(), p, domain.APITokenCreate{Name: "cache", Scopes: []string{"admin"}})
				if err != nil {
					t.Fatal(err)
				}
				token = created.Token
			}
			before, err := b.Authenticate(t.Context(), token)
			if err != nil {
				t.Fatalf("before the change: %v", err)
			}
			if tt.seen != nil && tt.seen(before) {
				t.Fatalf("the change is already seen before it was made: %+v", before)
			}
			token = tt.change(t, login, token)
			stacktest.Eventually(t, "the other process sees the change", func() bool {
				p, err := b.Authenticate(t.Context(), token)
				if tt.refused {
					return activity.ErrorCode(err) == activity.EUNAUTHORIZED
				}
				return err == nil && tt.seen(p)
			})
		})
	}
}

// TestAuthCacheServesFromMemory changes a role without announcing it
// (its trigger disabled): with a cache the process keeps the role it
// cached, with a TTL of 0 it reads the new role at once.
func TestAuthCacheServesFromMemory(t *testing.T) {
	for _, tt := range []struct {
		name string
		ttl  time.Duration
		want string
	}{
		{name: "cache on", ttl: time.Hour, want: activity.RoleOwner},
		{name: "cache off", ttl: 0, want: activity.RoleViewer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dbs, auths := authProcesses(t, 1, tt.ttl)
			auth := auths[0]
			if auth.CacheInUse() != (tt.ttl > 0) {
				t.Fatalf("CacheInUse = %v with a TTL of %s", auth.CacheInUse(), tt.ttl)
			}
			login := mustSession(t, dbs[0], auth)
			if _, err := auth.Authenticate(t.Context(), login.Token); err != nil {
				t.Fatal(err)
			}
			mustExec(t, dbs[0], "ALTER TABLE users DISABLE TRIGGER users_auth_change")
			mustExec(t, dbs[0], "UPDATE users SET role = 'viewer' WHERE id = ?", login.User.ID)
			p, err := auth.Authenticate(t.Context(), login.Token)
			if err != nil || p.Role != tt.want {
				t.Fatalf("role after an unannounced change = %q, %v; want %q", p.Role, err, tt.want)
			}
		})
	}
}

// TestAuthCacheReconnectDropsEverything ends the listener's connection
// after a change it was not told about: once it listens again, the
// process has dropped its cache and reads the change.
func TestAuthCacheReconnectDropsEverything(t *testing.T) {
	dbs, auths := authProcesses(t, 1, time.Hour)
	db, auth := dbs[0], auths[0]
	login := mustSession(t, db, auth)
	if _, err := auth.Authenticate(t.Context(), login.Token); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "ALTER TABLE users DISABLE TRIGGER users_auth_change")
	mustExec(t, db, "UPDATE users SET role = 'viewer' WHERE id = ?", login.User.ID)
	if p, err := auth.Authenticate(t.Context(), login.Token); err != nil || p.Role != activity.RoleOwner {
		t.Fatalf("role before the reconnect = %q, %v; want the cached owner", p.Role, err)
	}
	mustEndListener(t, db, "fluxera_auth_")
	stacktest.Eventually(t, "the reconnected process reads the new role", func() bool {
		p, err := auth.Authenticate(t.Context(), login.Token)
		return err == nil && p.Role == activity.RoleViewer
	})
}

// TestAuthCacheHonoursExpiry never serves a cached session past its
// expiry, however long the cache's TTL.
func TestAuthCacheHonoursExpiry(t *testing.T) {
	dbs, auths := authProcesses(t, 1, time.Hour)
	db, auth := dbs[0], auths[0]
	login := mustSession(t, db, auth)
	if _, err := auth.Authenticate(t.Context(), login.Token); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return login.ExpiresAt }
	if _, err := auth.Authenticate(t.Context(), login.Token); activity.ErrorCode(err) != activity.EUNAUTHORIZED {
		t.Fatalf("at the session's expiry: %v; want EUNAUTHORIZED", err)
	}
}

// TestAuthCacheChangesThroughTheProcessAreSeenAtOnce makes each change
// through the services of the process that cached the caller, with every
// announcing trigger disabled: the process drops what it cached on its
// own, so its next request already sees the change.
func TestAuthCacheChangesThroughTheProcessAreSeenAtOnce(t *testing.T) {
	dbs, auths := authProcesses(t, 1, time.Hour)
	db, auth := dbs[0], auths[0]
	for _, table := range []string{"sessions", "api_tokens", "users", "workspaces"} {
		mustExec(t, db, "ALTER TABLE "+table+" DISABLE TRIGGER USER")
	}
	hasher := argon2.Hasher{Params: postgrestest.Argon2}
	users, err := postgres.NewUserService(db, hasher, postgres.AuthConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := postgres.NewTokenService(db)
	settings := postgres.NewSettingsService(db)
	// member adds a member to the owner's workspace, with the owner's
	// password, and logs them in.
	member := func(t *testing.T, owner domain.LoginResult, creds domain.Credentials) domain.LoginResult {
		email := "member-" + stacktest.RandomID() + "@example.com"
		mustExec(t, db, `INSERT INTO users SELECT (jsonb_populate_record(u, jsonb_build_object('id', gen_random_uuid(), 'email', ?::text, 'role', 'member'))).* FROM users u WHERE u.id = ?`,
			email, owner.User.ID)
		login, err := auth.Login(t.Context(), domain.Credentials{Email: email, Password: creds.Password})
		if err != nil {
			t.Fatal(err)
		}
		return login
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, owner activity.Principal, login domain.LoginResult, creds domain.Credentials) string
		refused bool
		seen    func(activity.Principal) bool
	}{
		{name: "logout", refused: true, change: func(t *testing.T, _ activity.Principal, login domain.LoginResult, _ domain.Credentials) string {
			if err := auth.Logout(t.Context(), login.Token); err != nil {
				t.Fatal(err)
			}
			return login.Token
		}},
		{name: "token revoked", refused: true, change: func(t *testing.T, owner activity.Principal, _ domain.LoginResult, _ domain.Credentials) string {
			tok, err := tokens.CreateToken(t.Context(), owner, domain.APITokenCreate{Name: "revoked", Scopes: []string{"admin"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Authenticate(t.Context(), tok.Token); err != nil {
				t.Fatal(err)
			}
			if err := tokens.RevokeToken(t.Context(), owner, tok.ID); err != nil {
				t.Fatal(err)
			}
			return tok.Token
		}},
		{name: "token rotated", refused: true, change: func(t *testing.T, owner activity.Principal, _ domain.LoginResult, _ domain.Credentials) string {
			tok, err := tokens.CreateToken(t.Context(), owner, domain.APITokenCreate{Name: "rotated", Scopes: []string{"admin"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := auth.Authenticate(t.Context(), tok.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.RotateToken(t.Context(), owner, tok.ID); err != nil {
				t.Fatal(err)
			}
			return tok.Token
		}},
		{name: "password changed", refused: true, change: func(t *testing.T, _ activity.Principal, login domain.LoginResult, creds domain.Credentials) string {
			other, err := auth.Login(t.Context(), creds)
			if err != nil {
				t.Fatal(err)
			}
			p, err := auth.Authenticate(t.Context(), other.Token)
			if err != nil {
				t.Fatal(err)
			}
			in := domain.PasswordChange{CurrentPassword: creds.Password, NewPassword: "a new password " + stacktest.RandomID()}
			if err := users.ChangePassword(t.Context(), p, in); err != nil {
				t.Fatal(err)
			}
			return login.Token
		}},
		{name: "member deactivated", refused: true, change: func(t *testing.T, owner activity.Principal, login domain.LoginResult, creds domain.Credentials) string {
			m := member(t, login, creds)
			if _, err := auth.Authenticate(t.Context(), m.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := users.SetActive(t.Context(), owner, m.User.ID, domain.MemberStatus{Active: false}); err != nil {
				t.Fatal(err)
			}
			return m.Token
		}},
		{name: "role changed", seen: func(p activity.Principal) bool { return p.Role == activity.RoleViewer }, change: func(t *testing.T, owner activity.Principal, login domain.LoginResult, creds domain.Credentials) string {
			m := member(t, login, creds)
			if _, err := auth.Authenticate(t.Context(), m.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := users.ChangeRole(t.Context(), owner, m.User.ID, domain.RoleChange{Role: activity.RoleViewer}); err != nil {
				t.Fatal(err)
			}
			return m.Token
		}},
		{name: "time zone changed", seen: func(p activity.Principal) bool { return p.TimeZone == "Asia/Tokyo" }, change: func(t *testing.T, owner activity.Principal, login domain.LoginResult, _ domain.Credentials) string {
			zone := "Asia/Tokyo"
			if _, err := settings.UpdateSettings(t.Context(), owner, domain.SettingsUpdate{TimeZone: &zone}); err != nil {
				t.Fatal(err)
			}
			return login.Token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			login, creds := mustSessionCredentials(t, db, auth)
			owner, err := auth.Authenticate(t.Context(), login.Token)
			if err != nil {
				t.Fatal(err)
			}
			token := tt.change(t, owner, login, creds)
			p, err := auth.Authenticate(t.Context(), token)
			if tt.refused {
				if activity.ErrorCode(err) != activity.EUNAUTHORIZED {
					t.Fatalf("after the change: %+v, %v; want EUNAUTHORIZED", p, err)
				}
				return
			}
			if err != nil || !tt.seen(p) {
				t.Fatalf("after the change: %+v, %v; want the change seen", p, err)
			}
		})
	}
}

// TestAuthCacheOnALongSchemaName announces and hears changes on a schema
// whose name fills a PostgreSQL name: the channel is cut to 63 bytes on
// both sides, and a change still commits.
func TestAuthCacheOnALongSchemaName(t *testing.T) {
	schema := "test_" + stacktest.RandomID()
	schema += strings.Repeat("x", 63-len(schema))
	cfg := postgres.Config{URL: stacktest.PostgresURL(), Schema: schema}
	stacktest.MustReach(t, "PostgreSQL", stacktest.HostPort(cfg.URL))
	dbs := make([]*postgres.DB, 2)
	for i := range dbs {
		db, err := postgres.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dbs[i] = db
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dbs[0].DropSchema(ctx)
		for _, db := range dbs {
			db.Close()
		}
	})
	if err := dbs[0].Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	auths := make([]*postgres.AuthService, len(dbs))
	for i, db := range dbs {
		auth, err := postgres.NewAuthService(db, argon2.Hasher{Params: postgrestest.Argon2}, postgres.AuthConfig{CacheTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		auths[i] = auth
		wg.Add(1)
		go func() { defer wg.Done(); auth.ListenForChanges(ctx, nil) }()
		stacktest.Eventually(t, "the session cache listens", auth.CacheInUse)
	}
	login := mustSession(t, dbs[0], auths[0])
	if _, err := auths[1].Authenticate(t.Context(), login.Token); err != nil {
		t.Fatal(err)
	}
	if err := auths[0].Logout(t.Context(), login.Token); err != nil {
		t.Fatalf("logout on a long schema name: %v", err)
	}
	stacktest.Eventually(t, "the other process refuses the ended session", func() bool {
		_, err := auths[1].Authenticate(t.Context(), login.Token)
		return activity.ErrorCode(err) == activity.EUNAUTHORIZED
	})
}
