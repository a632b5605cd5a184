// Package openapi holds the contract of the platform's HTTP API: an OpenAPI
// 3.1 document of every route under /api/v1 and of the operational routes
// the API serves beside them (openapi.yaml, kept beside this file). The API
// serves it as JSON at GET /api/v1/openapi.json; the end-to-end tests check
// every request they make and every answer they get against it, and the Go
// client in client/ is written against it.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v4"
)

//go:embed openapi.yaml
var source []byte

// YAML returns the document as it is kept in the repository.
func YAML() []byte { return source }

// JSON returns the document as JSON, the form GET /api/v1/openapi.json
// serves. It fails only when openapi.yaml is not YAML that JSON can
// hold, which the package's tests rule out.
var JSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(source, &doc); err != nil {
		return nil, fmt.Errorf("read openapi.yaml: %w", err)
	}
	doc, err := jsonValue(doc)
	if err != nil {
		return nil, fmt.Errorf("read openapi.yaml: %w", err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("write the OpenAPI document as JSON: %w", err)
	}
	return raw, nil
})

// jsonValue turns what the YAML decoder made into values encoding/json
// writes: maps keyed by strings all the way down.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			e, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			v[k] = e
		}
		return v, nil
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string; quote it", k)
			}
			e, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[s] = e
		}
		return out, nil
	case []any:
		for i, e := range v {
			e, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			v[i] = e
		}
		return v, nil
	}
	return v, nil
}
