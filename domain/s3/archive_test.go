package s3_test

import (
	"testing"

	"github.com/fluxera/activity/domain"
	"github.com/fluxera/activity/domain/archivetest"
	"github.com/fluxera/activity/domain/s3"
	"github.com/fluxera/activity/internal/stacktest"
)

// mustArchive returns an archive store in a bucket of the test's own on the
// local stack's S3 storage; the bucket does not exist until the first put.
func mustArchive(t *testing.T) *s3.Archive {
	t.Helper()
	st, bucket := stacktest.MustS3Bucket(t, "archive")
	a, err := s3.NewArchive(s3.Config{
		Endpoint: st.Endpoint, Bucket: bucket, AccessKey: st.AccessKey, SecretKey: st.SecretKey,
		Region: st.Region, Secure: st.Secure, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArchiveKeepsTheStoreContract(t *testing.T) {
	archivetest.Run(t, func(t *testing.T) domain.ArchiveStore { return mustArchive(t) })
}
