package migrations

import (
	"io/fs"
	"strings"
	"testing"
)

// TestVersionsAreUnique fails when two migration files share a version:
// the migrator knows a migration by its version alone, so the second would
// never run.
func TestVersionsAreUnique(t *testing.T) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, name := range names {
		version, _, _ := strings.Cut(name, "_")
		if other, ok := seen[version]; ok {
			t.Errorf("%s and %s share the version %s", other, name, version)
		}
		seen[version] = name
	}
	if len(seen) == 0 {
		t.Fatal("no migration files")
	}
}
