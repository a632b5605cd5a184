package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	activity "github.com/fluxera/activity"
)

// DecodeJSON reads the request body into v strictly: the body must be JSON
// in UTF-8, one object, with no field v does not know. Errors are EINVALID
// and name the field where one is at fault. Nesting deeper than
// encoding/json's limit (10,000) is malformed JSON like any other.
func DecodeJSON(c *fiber.Ctx, v any) error {
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != fiber.MIMEApplicationJSON {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "the body must be sent as application/json")
	}
	body := Body(c)
	if !utf8.Valid(body) {
		// encoding/json would take each stray byte for U+FFFD, silently.
		return activity.Errorf(activity.EINVALID, "", "the body is not valid UTF-8")
	}
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] != '{' {
		// A null would decode into nothing at all, and an array or a
		// string into a less helpful refusal.
		return activity.Errorf(activity.EINVALID, "", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nameField(decodeError(err), err, body, v)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return activity.Errorf(activity.EINVALID, "", "the body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		userErr   *activity.Error
	)
	switch {
	case errors.Is(err, io.EOF):
		return activity.Errorf(activity.EINVALID, "", "the body is empty; send a JSON object")
	case errors.As(err, &syntaxErr):
		return activity.Errorf(activity.EINVALID, "", "malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return activity.Errorf(activity.EINVALID, "", "the body must be a JSON object")
		}
		return activity.Errorf(activity.EINVALID, typeErr.Field, "%s must be a %s", typeErr.Field, jsonType(typeErr.Type.Kind().String()))
	case errors.As(err, &userErr):
		return userErr
	case errors.Is(err, io.ErrUnexpectedEOF):
		return activity.Errorf(activity.EINVALID, "", "malformed JSON: the body ends too early")
	}
	// json reports unknown fields as `json: unknown field "x"`.
	const prefix = "json: unknown field "
	if msg := err.Error(); len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		field := msg[len(prefix)+1 : len(msg)-1]
		return activity.Errorf(activity.EINVALID, field, "unknown field %q", field)
	}
	return activity.Errorf(activity.EINVALID, "", "malformed JSON: %v", err)
}

// nameField names the field at fault in refusal when the decoder could not:
// a value a type's own UnmarshalJSON refused (a date that is not one), or a
// time that is not RFC 3339, comes back from encoding/json without the field
// it was in. The top-level fields of v are decoded one at a time from body
// to find the first that fails.
func nameField(refusal, err error, body []byte, v any) error {
	var userErr *activity.Error
	if !errors.As(refusal, &userErr) || userErr.Field != "" {
		return refusal
	}
	var timeErr *time.ParseError
	if !errors.As(err, &userErr) && !errors.As(err, &timeErr) {
		return refusal
	}
	field := failingField(body, v)
	if field == "" {
		return refusal
	}
	if timeErr != nil {
		return activity.Errorf(activity.EINVALID, field, "%s must be an RFC 3339 time such as 2026-12-01T00:00:00Z", field)
	}
	return activity.Errorf(userErr.Code, field, "%s: %s", field, userErr.Message)
}

// failingField returns the JSON name of the first field of the struct v
// points to whose value in body does not decode, or "".
func failingField(body []byte, v any) string {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	for _, f := range reflect.VisibleFields(t.Elem()) {
		if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		for key, raw := range obj {
			if !strings.EqualFold(key, name) {
				continue
			}
			if json.Unmarshal(raw, reflect.New(f.Type).Interface()) != nil {
				return name
			}
		}
	}
	return ""
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "list"
	}
	return "number"
}

// DecodeOptionalJSON is DecodeJSON for requests whose body may be left
// out, such as a DELETE with an optional note.
func DecodeOptionalJSON(c *fiber.Ctx, v any) error {
	if len(bytes.TrimSpace(Body(c))) == 0 {
		return nil
	}
	return DecodeJSON(c, v)
}
