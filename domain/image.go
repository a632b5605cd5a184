package domain

import (
	"net/http"
	"path"
	"strings"

	activity "github.com/fluxera/activity"
)

// ImagePolicy bounds what may be uploaded as an asset image.
type ImagePolicy struct {
	MaxBytes int64
}

// imageTypes are the accepted types, by the content's own signature, and
// the extension each is stored with.
var imageTypes = map[string]string{
	"image/jpeg": ".jpg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
}

// Check returns the upload's content type, judged from its bytes and not
// from its name, and the file extension to store it with. It returns
// EINVALID for an empty, oversized or non-image file, or a bad file name.
func (pol ImagePolicy) Check(in ImageUpload) (contentType, ext string, err error) {
	name := in.FileName
	switch {
	case len(in.Data) == 0:
		return "", "", activity.Errorf(activity.EINVALID, "file", "the file is empty")
	case int64(len(in.Data)) > pol.MaxBytes:
		return "", "", activity.Errorf(activity.EINVALID, "file", "the file has %d bytes; images may have at most %d", len(in.Data), pol.MaxBytes)
	case name == "" || activity.ValidateLine("file", name, 255) != nil || path.Base(strings.ReplaceAll(name, `\`, "/")) != name:
		return "", "", activity.Errorf(activity.EINVALID, "file", "the file name must be a plain name of at most 255 characters, one line of printable text")
	}
	contentType = http.DetectContentType(in.Data)
	ext, ok := imageTypes[contentType]
	if !ok {
		return "", "", activity.Errorf(activity.EINVALID, "file", "the file is %s; images must be JPEG, PNG, GIF or WebP", contentType)
	}
	return contentType, ext, nil
}
