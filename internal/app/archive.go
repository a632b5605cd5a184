package app

import (
	"fmt"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/disk"
	"github.com/fluxera/activity/domain/s3"
)

// Archive returns the process's archive store, where generated exports,
// reports and backups are kept: the folder FLUXERA_ARCHIVE_DIR, or with
// FLUXERA_ARCHIVE=s3 the bucket FLUXERA_S3_BUCKET on S3-compatible storage.
// Every caller in the process shares the one store.
func (m *Main) Archive() (domain.ArchiveStore, error) {
	if m.archive != nil {
		return m.archive, nil
	}
	switch m.Config.Archive {
	case ArchiveDir, "":
		m.archive = disk.Archive{Dir: m.Config.ArchiveDir}
	case ArchiveS3:
		a, err := s3.NewArchive(m.Config.S3)
		if err != nil {
			return nil, fmt.Errorf("configuration: %w", err)
		}
		m.archive = a
	default:
		return nil, fmt.Errorf("configuration: FLUXERA_ARCHIVE=%q must be dir or s3", m.Config.Archive)
	}
	return m.archive, nil
}
