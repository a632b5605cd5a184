// Package s3 keeps the archive store's files (exports, reports and
// backups) on S3-compatible object storage: Amazon S3, or SeaweedFS as the
// local stack serves it.
package s3

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Config says where the archive's bucket is and how to sign in to it.
type Config struct {
	// Endpoint is the storage's host:port, without a scheme
	// (s3.eu-central-1.amazonaws.com, 127.0.0.1:18333).
	Endpoint string
	// Bucket holds every workspace's files; it is created if missing.
	Bucket    string
	AccessKey string
	SecretKey string
	// Region is the bucket's region; us-east-1 unless said otherwise.
	Region string
	// Secure talks HTTPS to the endpoint; only a store on loopback, as the
	// local stack's, goes without.
	Secure bool
	// TempDir is where a file is kept while it is hashed, before it is
	// stored; the system's temporary folder when empty.
	TempDir string
	// ReadTimeout bounds each read of a file being downloaded: a read that
	// brings nothing for this long ends the download. The whole download
	// has no bound; DefaultReadTimeout unless said otherwise.
	ReadTimeout time.Duration
}

// DefaultRegion is the region of a Config without one.
const DefaultRegion = "us-east-1"

// DefaultReadTimeout is the read timeout of a Config without one.
const DefaultReadTimeout = time.Minute

// Validate fills in defaults and checks the values.
func (c *Config) Validate() error {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	switch {
	case c.Endpoint == "":
		return fmt.Errorf("s3: the endpoint is required")
	case strings.Contains(c.Endpoint, "://") || strings.ContainsAny(c.Endpoint, "/?#@"):
		return fmt.Errorf("s3: the endpoint %q must be a host:port without a scheme or path (the secure setting chooses https)", c.Endpoint)
	case c.ReadTimeout < 0:
		return fmt.Errorf("s3: the read timeout must be positive")
	case c.AccessKey == "" || c.SecretKey == "":
		return fmt.Errorf("s3: the access key and the secret key are required")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return fmt.Errorf("s3: bucket %q: %w", c.Bucket, err)
	}
	return nil
}

// client returns a client of the storage. Connections and answers are
// bounded here, calls by their context.
func (c Config) client() (*minio.Client, error) {
	tr, err := minio.DefaultTransport(c.Secure)
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	cl, err := minio.New(c.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:     c.Secure,
		Region:     c.Region,
		Transport:  tr,
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", c.Endpoint, err)
	}
	return cl, nil
}
