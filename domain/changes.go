package domain

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	activity "github.com/fluxera/activity"
)

// Changes compares two values of the same struct type field by field and
// returns one change per field whose value differs, in declaration order.
//
// A field's name is its json name. Fields tagged audit:"-" are skipped;
// fields tagged audit:"secret" are reported as changed without either value.
// Values are rendered for people: dates as YYYY-MM-DD, a nil pointer as "",
// and any type with a String method through it (a user reference shows the
// user's name). Pass a zero value as before to describe a creation, and as
// after to describe a deletion.
func Changes(before, after any) []activity.Change {
	bv, av := reflect.Indirect(reflect.ValueOf(before)), reflect.Indirect(reflect.ValueOf(after))
	if bv.Type() != av.Type() || bv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("domain.Changes: need two structs of one type, got %T and %T", before, after))
	}
	var out []activity.Change
	t := bv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("audit")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" {
			name = f.Name
		}
		b, a := render(bv.Field(i)), render(av.Field(i))
		if b == a {
			continue
		}
		if tag == "secret" {
			out = append(out, activity.Change{Field: name, Redacted: true})
			continue
		}
		out = append(out, activity.Change{Field: name, Before: b, After: a})
	}
	return out
}

func render(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case Date:
		if x.IsZero() {
			return ""
		}
		return x.String()
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case fmt.Stringer:
		return x.String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
