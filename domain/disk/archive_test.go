package disk_test

import (
	"testing"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/archivetest"
	"github.com/fluxera/activity/domain/disk"
)

func TestArchiveKeepsTheStoreContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) domain.ArchiveStore { return disk.Archive{Dir: t.TempDir()} })
}
