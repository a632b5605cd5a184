package app

import (
	"strings"
	"testing"

	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/s3"
)

// TestArchiveSettingsChooseTheStore checks that FLUXERA_ARCHIVE picks the
// folder or the S3 store, that the S3 settings are checked only when they
// are used, and that Main builds the store chosen.
func TestArchiveSettingsChooseTheStore(t *testing.T) {
	s3env := func(more map[string]string) map[string]string {
		env := map[string]string{
			"FLUXERA_ARCHIVE": "s3", "FLUXERA_S3_ENDPOINT": "s3.eu-central-1.amazonaws.com",
			"FLUXERA_S3_ACCESS_KEY": "AKIA0000", "FLUXERA_S3_SECRET_KEY": "secret",
		}
		for k, v := range more {
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name  string
		env   map[string]string
		fault string // in the error; "" when the configuration is accepted
		check func(t *testing.T, cfg Config)
	}{
		{name: "a folder by default", check: func(t *testing.T, cfg Config) {
			if cfg.Archive != ArchiveDir || cfg.ArchiveDir != "var/archive" {
				t.Errorf("archive = %q in %q", cfg.Archive, cfg.ArchiveDir)
			}
		}},
		{name: "another folder", env: map[string]string{"FLUXERA_ARCHIVE": "dir", "FLUXERA_ARCHIVE_DIR": "/srv/archive", "FLUXERA_S3_ENDPOINT": "http://unused"}, check: func(t *testing.T, cfg Config) {
			if cfg.ArchiveDir != "/srv/archive" {
				t.Errorf("archive dir = %q", cfg.ArchiveDir)
			}
		}},
		{name: "s3 with its defaults", env: s3env(nil), check: func(t *testing.T, cfg Config) {
			want := s3.Config{Endpoint: "s3.eu-central-1.amazonaws.com", Bucket: "fluxera-archive", AccessKey: "AKIA0000", SecretKey: "secret", Region: "us-east-1", Secure: true, ReadTimeout: s3.DefaultReadTimeout}
			if cfg.S3 != want {
				t.Errorf("s3 = %+v, want %+v", cfg.S3, want)
			}
		}},
		{name: "s3 on loopback", env: s3env(map[string]string{"FLUXERA_S3_ENDPOINT": "127.0.0.1:18333", "FLUXERA_S3_SECURE": "false", "FLUXERA_S3_BUCKET": "audit.archive-1", "FLUXERA_S3_REGION": "eu-central-1"}), check: func(t *testing.T, cfg Config) {
			if cfg.S3.Secure || cfg.S3.Bucket != "audit.archive-1" || cfg.S3.Region != "eu-central-1" {
				t.Errorf("s3 = %+v", cfg.S3)
			}
		}},
		{name: "an unknown store", env: map[string]string{"FLUXERA_ARCHIVE": "ftp"}, fault: `FLUXERA_ARCHIVE="ftp" must be dir or s3`},
		{name: "a blank folder is the default one", env: map[string]string{"FLUXERA_ARCHIVE_DIR": " "}, check: func(t *testing.T, cfg Config) {
			if cfg.ArchiveDir != "var/archive" {
				t.Errorf("archive dir = %q", cfg.ArchiveDir)
			}
		}},
		{name: "s3 without an endpoint", env: s3env(map[string]string{"FLUXERA_S3_ENDPOINT": ""}), fault: "endpoint is required"},
		{name: "s3 endpoint with a scheme", env: s3env(map[string]string{"FLUXERA_S3_ENDPOINT": "https://s3.amazonaws.com"}), fault: "without a scheme"},
		{name: "s3 endpoint with a path", env: s3env(map[string]string{"FLUXERA_S3_ENDPOINT": "s3.amazonaws.com/bucket"}), fault: "without a scheme or path"},
		{name: "s3 without keys", env: s3env(map[string]string{"FLUXERA_S3_SECRET_KEY": ""}), fault: "secret key are required"},
		{name: "s3 bucket name", env: s3env(map[string]string{"FLUXERA_S3_BUCKET": "Audit_Archive"}), fault: `bucket "Audit_Archive"`},
		{name: "s3 secure not a boolean", env: s3env(map[string]string{"FLUXERA_S3_SECURE": "maybe"}), fault: `FLUXERA_S3_SECURE="maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(name string) string { return tt.env[name] })
			switch {
			case tt.fault == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.fault != "" && (err == nil || !strings.Contains(err.Error(), tt.fault)):
				t.Fatalf("error %v, want one about %q", err, tt.fault)
			}
			if err == nil && tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

func TestMainBuildsTheArchiveChosen(t *testing.T) {
	cfg, err := LoadConfig(func(name string) string {
		return map[string]string{"FLUXERA_ARCHIVE_DIR": "/srv/archive"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := NewMain(cfg).Archive(); err != nil || a != (disk.Archive{Dir: "/srv/archive"}) {
		t.Errorf("dir archive = %#v, %v", a, err)
	}
	cfg.Archive = ArchiveS3
	cfg.S3 = s3.Config{Endpoint: "127.0.0.1:18333", Bucket: "fluxera-archive", AccessKey: "k", SecretKey: "s"}
	m := NewMain(cfg)
	a, err := m.Archive()
	if _, ok := a.(*s3.Archive); err != nil || !ok {
		t.Fatalf("s3 archive = %#v, %v", a, err)
	}
	if again, _ := m.Archive(); again != a {
		t.Error("a second call built another store")
	}
	cfg.S3.Endpoint = ""
	if _, err := NewMain(cfg).Archive(); err == nil {
		t.Error("an s3 archive without an endpoint was built")
	}
}
