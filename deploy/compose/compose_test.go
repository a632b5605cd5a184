// Package compose holds the Docker Compose file of the platform to the
// local stack: there is no Docker engine where the tests run, so the test
// loads the file with the Compose specification's own loader and checks
// it against deploy/local/stack.sh's versions, ports and settings.
package compose

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// mustProject loads compose.yaml as docker compose would.
func mustProject(t *testing.T) *types.Project {
	t.Helper()
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{"compose.yaml"}, ".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName("fluxera", true) })
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

// stackSettings reads the NAME=value lines of deploy/local/stack.sh.
func stackSettings(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "local", "stack.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)=([^\s#]+)`).FindAllStringSubmatch(string(raw), -1) {
		out[m[1]] = m[2]
	}
	return out
}

func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// mountedAt reports whether path is on a named volume of s.
func mountedAt(s types.ServiceConfig, path string) bool {
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && (path == v.Target || strings.HasPrefix(path, v.Target+"/")) {
			return true
		}
	}
	return false
}

// TestComposeMatchesTheLocalStack checks each service's image against the
// version the local stack runs, its published port against the stack's,
// that each has a healthcheck and the platform waits for each to be
// healthy, and that what must outlive a container is on a volume.
func TestComposeMatchesTheLocalStack(t *testing.T) {
	p := mustProject(t)
	stack := stackSettings(t)
	pgMajor := regexp.MustCompile(`/postgresql/(\d+)/`).FindStringSubmatch(stack["PG_BIN"])
	if pgMajor == nil {
		t.Fatalf("stack.sh's PG_BIN %q names no PostgreSQL version", stack["PG_BIN"])
	}
	for _, tt := range []struct {
		service, image, port, target string
	}{
		{"postgres", "postgres:" + pgMajor[1], stack["PG_PORT"], "5432"},
		{"redis", "redis:7", stack["REDIS_PORT"], "6379"},
		{"opensearch", "opensearchproject/opensearch:" + stack["OS_VERSION"], stack["OS_HTTP_PORT"], "9200"},
		{"kafka", "apache/kafka:" + stack["KAFKA_VERSION"], stack["KAFKA_PORT"], "19092"},
		{"seaweedfs", "chrislusf/seaweedfs:" + stack["SW_RELEASE"], stack["SW_S3_PORT"], "8333"},
		{"fluxera", "", "8080", "8080"},
	} {
		t.Run(tt.service, func(t *testing.T) {
			s, ok := p.Services[tt.service]
			if !ok {
				t.Fatalf("compose.yaml has no service %s", tt.service)
			}
			if tt.image != "" && s.Image != tt.image {
				t.Errorf("image %q, want %q as the local stack runs", s.Image, tt.image)
			}
			published := false
			for _, port := range s.Ports {
				if port.Published == tt.port && port.Target == atoi(tt.target) {
					published = true
					if port.HostIP != "127.0.0.1" {
						t.Errorf("port %s published on %q, want 127.0.0.1 only", port.Published, port.HostIP)
					}
				}
			}
			if !published {
				t.Errorf("ports %+v, want %s published to %s", s.Ports, tt.port, tt.target)
			}
			if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || s.HealthCheck.Disable {
				t.Error("no healthcheck")
			}
			if tt.service != "fluxera" {
				if d, ok := p.Services["fluxera"].DependsOn[tt.service]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("fluxera does not wait for %s to be healthy: %+v", tt.service, d)
				}
			}
		})
	}

	kafka := p.Services["kafka"]
	if dir := env(kafka, "KAFKA_LOG_DIRS"); dir == "" || !mountedAt(kafka, dir) {
		t.Errorf("Kafka writes its log to %q, which is not on its volume %+v", dir, kafka.Volumes)
	}
}

// TestComposePlatformSettings checks the platform's service: every
// setting it passes is one the platform reads, the secret key, the images
// and the working directory are on its volume, the archive is the S3
// storage with the local stack's identity, and the image has CA
// certificates and a build context without the repository's history.
func TestComposePlatformSettings(t *testing.T) {
	p := mustProject(t)
	stack := stackSettings(t)
	s := p.Services["fluxera"]
	config, err := os.ReadFile(filepath.Join("..", "..", "internal", "app", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range s.Environment {
		if strings.HasPrefix(name, "FLUXERA_") && !strings.Contains(string(config), `"`+name+`"`) {
			t.Errorf("compose.yaml sets %s, which the platform does not read", name)
		}
	}
	for _, name := range []string{"FLUXERA_SECRET_KEY_FILE", "FLUXERA_IMAGE_DIR"} {
		if v := env(s, name); v == "" || !mountedAt(s, v) {
			t.Errorf("%s=%q is not on the platform's volume %+v", name, v, s.Volumes)
		}
	}
	for name, want := range map[string]string{
		"FLUXERA_ARCHIVE":       "s3",
		"FLUXERA_S3_ENDPOINT":   "seaweedfs:8333",
		"FLUXERA_S3_ACCESS_KEY": stack["SW_ACCESS_KEY"],
		"FLUXERA_S3_SECRET_KEY": stack["SW_SECRET_KEY"],
		"FLUXERA_S3_REGION":     stack["SW_REGION"],
		"FLUXERA_S3_SECURE":     "false",
	} {
		if got := env(s, name); got != want {
			t.Errorf("%s=%q, want %q", name, got, want)
		}
	}
	// SeaweedFS knows the identity the platform signs in with.
	var identities struct {
		Identities []struct {
			Credentials []struct{ AccessKey, SecretKey string }
			Actions     []string
		}
	}
	cfg, ok := p.Configs["s3-identities"]
	if err := json.Unmarshal([]byte(cfg.Content), &identities); !ok || err != nil || len(identities.Identities) != 1 ||
		len(identities.Identities[0].Credentials) != 1 || identities.Identities[0].Credentials[0].AccessKey != stack["SW_ACCESS_KEY"] ||
		identities.Identities[0].Credentials[0].SecretKey != stack["SW_SECRET_KEY"] || !slices.Contains(identities.Identities[0].Actions, "Write") {
		t.Errorf("SeaweedFS's S3 identities %q (%v) are not the local stack's", cfg.Content, err)
	}
	sw := p.Services["seaweedfs"]
	if !slices.ContainsFunc(sw.Configs, func(c types.ServiceConfigObjConfig) bool { return c.Source == "s3-identities" }) ||
		!slices.ContainsFunc(sw.Command, func(a string) bool { return strings.HasPrefix(a, "-s3.config=") }) || !mountedAt(sw, "/data") {
		t.Errorf("SeaweedFS does not read the identities or keep its data on a volume: command %q, configs %+v, volumes %+v", sw.Command, sw.Configs, sw.Volumes)
	}

	// The image: CA certificates, a working directory of its own on the
	// volume, built from the repository without .git.
	if s.Build == nil {
		t.Fatal("the platform's service is not built")
	}
	dockerfile, err := os.ReadFile(filepath.Join(s.Build.Context, s.Build.Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), "ca-certificates") {
		t.Error("the image installs no CA certificates")
	}
	workdir := regexp.MustCompile(`(?m)^WORKDIR (\S+)`).FindAllStringSubmatch(string(dockerfile), -1)
	if len(workdir) == 0 || !mountedAt(s, workdir[len(workdir)-1][1]) {
		t.Errorf("the image's working directory %v is not on the platform's volume", workdir)
	}
	if !regexp.MustCompile(`install -d -o fluxera[^\n]*` + regexp.QuoteMeta(workdir[len(workdir)-1][1])).Match(dockerfile) {
		t.Error("the working directory does not belong to the user the platform runs as")
	}
	ignore, err := os.ReadFile(filepath.Join(s.Build.Context, ".dockerignore"))
	if err != nil {
		t.Fatalf("the build context has no .dockerignore: %v", err)
	}
	if !regexp.MustCompile(`(?m)^\.git$`).Match(ignore) {
		t.Error(".dockerignore does not leave out .git")
	}
	if _, err := os.Stat(filepath.Join(s.Build.Context, "go.mod")); err != nil {
		t.Errorf("the build context %s is not the repository: %v", s.Build.Context, err)
	}
}

func atoi(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
