package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	activity "github.com/fluxera/activity"
	"github.com/fluxera/activity/domain"
)

// errUnavailable answers a call the storage could not serve for now.
var errUnavailable = activity.Errorf(activity.EUNAVAILABLE, "", "the archive cannot be reached at this moment; try again shortly")

// Archive is the archive store in one bucket: objects named
// "<workspace id>/<kind>/<sha256>.<ext>", written once. A file's creation
// time is its object's last-modified time, which never changes since the
// object is never written again.
type Archive struct {
	cfg Config
	cl  *minio.Client

	mu     sync.Mutex
	bucket bool // the bucket is known to exist
}

// NewArchive returns the archive store of cfg. It does not reach the
// storage: the bucket is checked, and created if missing, by the first
// Put.
func NewArchive(cfg Config) (*Archive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cl, err := cfg.client()
	if err != nil {
		return nil, err
	}
	return &Archive{cfg: cfg, cl: cl}, nil
}

// Put streams r into a temporary file while hashing it, then stores it
// under its content's name unless an object has that name already: the
// upload is conditional (If-None-Match: *), so that of two puts of the same
// content at once one writes and the other finds its object. A put that
// fails or is cut short by its context stores nothing.
func (a *Archive) Put(ctx context.Context, workspaceID, kind, ext string, r io.Reader) (domain.ArchiveObject, error) {
	if !domain.ValidArchiveName(kind + "/" + strings.Repeat("0", 64) + "." + ext) {
		return domain.ArchiveObject{}, fmt.Errorf("archive: kind %q or extension %q is not one the store keeps", kind, ext)
	}
	if _, err := workspacePrefix(workspaceID); err != nil {
		return domain.ArchiveObject{}, err
	}
	f, err := os.CreateTemp(a.cfg.TempDir, "fluxera-archive-*")
	if err != nil {
		return domain.ArchiveObject{}, fmt.Errorf("create archive staging file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), contextReader{ctx, r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return domain.ArchiveObject{}, fmt.Errorf("stage archive file: %w", err)
	}
	name := kind + "/" + hex.EncodeToString(h.Sum(nil)) + "." + ext
	obj, err := a.stat(ctx, workspaceID, name)
	if err == nil {
		return obj, nil // the same content is stored already
	}
	if activity.ErrorCode(err) != activity.ENOTFOUND {
		return domain.ArchiveObject{}, err
	}
	if err := a.ensureBucket(ctx); err != nil {
		return domain.ArchiveObject{}, err
	}
	opts := minio.PutObjectOptions{ContentType: domain.ArchiveContentType(ext)}
	opts.SetMatchETagExcept("*")
	_, err = a.cl.PutObject(ctx, a.cfg.Bucket, objectKey(workspaceID, name), f, n, opts)
	if err != nil && !alreadyStored(err) {
		return domain.ArchiveObject{}, a.fail("store archive file", err)
	}
	obj, err = a.stat(ctx, workspaceID, name)
	if err != nil {
		return domain.ArchiveObject{}, err
	}
	if obj.Size != n {
		return domain.ArchiveObject{}, fmt.Errorf("archive object %s holds %d bytes, %d were written", name, obj.Size, n)
	}
	return obj, nil
}

// Open opens the workspace's file named name; it reads the object as the
// caller reads it, under ctx, each read bounded by the ReadTimeout but the
// whole download by nothing but ctx. A name of another workspace, or none,
// is ENOTFOUND.
func (a *Archive) Open(ctx context.Context, workspaceID, name string) (io.ReadCloser, domain.ArchiveObject, error) {
	if !domain.ValidArchiveName(name) {
		return nil, domain.ArchiveObject{}, notFound(name)
	}
	if _, err := workspacePrefix(workspaceID); err != nil {
		return nil, domain.ArchiveObject{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	o, err := a.cl.GetObject(ctx, a.cfg.Bucket, objectKey(workspaceID, name), minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, domain.ArchiveObject{}, a.fail("open archive file", err)
	}
	info, err := o.Stat()
	if err != nil {
		o.Close()
		cancel()
		if missing(err) {
			return nil, domain.ArchiveObject{}, notFound(name)
		}
		return nil, domain.ArchiveObject{}, a.fail("open archive file", err)
	}
	return &idleReader{r: o, cancel: cancel, timeout: a.cfg.ReadTimeout}, archiveObject(workspaceID, name, info), nil
}

// Delete removes the workspace's object named name.
func (a *Archive) Delete(ctx context.Context, workspaceID, name string) error {
	if !domain.ValidArchiveName(name) {
		return notFound(name)
	}
	if _, err := workspacePrefix(workspaceID); err != nil {
		return err
	}
	key := objectKey(workspaceID, name)
	if _, err := a.cl.StatObject(ctx, a.cfg.Bucket, key, minio.StatObjectOptions{}); err != nil {
		if missing(err) {
			return notFound(name)
		}
		return a.fail("delete archive file", err)
	}
	if err := a.cl.RemoveObject(ctx, a.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return a.fail("delete archive file", err)
	}
	return nil
}

// idleReader reads an object being downloaded, and ends its request when
// one read brings nothing for timeout: a stalled store fails the download
// rather than holding it, however long the download as a whole takes.
type idleReader struct {
	r       io.ReadCloser
	cancel  context.CancelFunc
	timeout time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	t := time.AfterFunc(r.timeout, r.cancel)
	n, err := r.r.Read(p)
	if !t.Stop() && err != nil && err != io.EOF {
		err = fmt.Errorf("read archive file: nothing came for %s: %w", r.timeout, err)
	}
	return n, err
}

func (r *idleReader) Close() error {
	err := r.r.Close()
	r.cancel()
	return err
}

// List returns the workspace's files of kind, newest first; an empty kind
// lists every kind.
func (a *Archive) List(ctx context.Context, workspaceID, kind string) ([]domain.ArchiveObject, error) {
	prefix, err := workspacePrefix(workspaceID)
	if err != nil {
		return nil, err
	}
	if kind != "" {
		prefix += kind + "/"
	}
	// Ending the context ends the listing's goroutine when it stops early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := []domain.ArchiveObject{}
	for info := range a.cl.ListObjects(ctx, a.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			if missing(info.Err) {
				return out, nil // no bucket yet: nothing was stored
			}
			return nil, a.fail("list archive files", info.Err)
		}
		name := strings.TrimPrefix(info.Key, strings.ToLower(workspaceID)+"/")
		if !domain.ValidArchiveName(name) {
			continue // not a file of the store's
		}
		// Listings carry no media type: the name's stands.
		out = append(out, domain.NewArchiveObject(workspaceID, name, info.Size, info.LastModified.Truncate(time.Second)))
	}
	domain.SortArchiveObjects(out)
	return out, nil
}

// stat returns the workspace's file named name, or ENOTFOUND.
func (a *Archive) stat(ctx context.Context, workspaceID, name string) (domain.ArchiveObject, error) {
	info, err := a.cl.StatObject(ctx, a.cfg.Bucket, objectKey(workspaceID, name), minio.StatObjectOptions{})
	if err != nil {
		if missing(err) {
			return domain.ArchiveObject{}, notFound(name)
		}
		return domain.ArchiveObject{}, a.fail("stat archive file", err)
	}
	return archiveObject(workspaceID, name, info), nil
}

// ensureBucket creates the bucket unless it exists; once it is known to,
// it is not asked again.
func (a *Archive) ensureBucket(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bucket {
		return nil
	}
	ok, err := a.cl.BucketExists(ctx, a.cfg.Bucket)
	if err != nil {
		return a.fail("check the archive bucket", err)
	}
	if !ok {
		if err := a.cl.MakeBucket(ctx, a.cfg.Bucket, minio.MakeBucketOptions{Region: a.cfg.Region}); err != nil {
			// Another process may have made it meanwhile.
			if ok, _ := a.cl.BucketExists(ctx, a.cfg.Bucket); !ok {
				return a.fail("create the archive bucket "+a.cfg.Bucket, err)
			}
		}
	}
	a.bucket = true
	return nil
}

// fail wraps a failed call: EUNAVAILABLE when the storage could not be
// reached or failed on its side, so that the same call may be retried.
func (a *Archive) fail(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || minio.ToErrorResponse(err).StatusCode >= 500 {
		return fmt.Errorf("%s at %s: %v: %w", op, a.cfg.Endpoint, err, errUnavailable)
	}
	return fmt.Errorf("%s at %s: %w", op, a.cfg.Endpoint, err)
}

// missing reports whether err says the object or its bucket does not
// exist.
func missing(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey" || resp.Code == "NoSuchBucket"
}

// alreadyStored reports whether a conditional upload was refused because
// the object exists, or because another upload of it was under way.
func alreadyStored(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed" ||
		resp.Code == "ConditionalRequestConflict"
}

func notFound(name string) error {
	return activity.Errorf(activity.ENOTFOUND, "name", "no archived file %q", name)
}

// workspacePrefix is the key prefix of a workspace's objects; an id that is
// not a UUID never names one.
func workspacePrefix(workspaceID string) (string, error) {
	if !activity.ValidUUID(workspaceID) {
		return "", activity.Errorf(activity.ENOTFOUND, "workspace_id", "no such workspace")
	}
	return strings.ToLower(workspaceID) + "/", nil
}

// objectKey is the key of a workspace's file; callers checked both parts.
func objectKey(workspaceID, name string) string {
	return strings.ToLower(workspaceID) + "/" + name
}

func archiveObject(workspaceID, name string, info minio.ObjectInfo) domain.ArchiveObject {
	// HEAD answers carry whole seconds, listings may carry more.
	obj := domain.NewArchiveObject(workspaceID, name, info.Size, info.LastModified.Truncate(time.Second))
	if info.ContentType != "" {
		obj.ContentType = info.ContentType
	}
	return obj
}

// contextReader stops a copy when its context ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var _ domain.ArchiveStore = (*Archive)(nil)
