package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/liveagent-bridge/liveagent/gateway"
)

// docURL names the document as a schema resource; "#/…" references in it
// resolve against it.
const docURL = "mem:///openapi.json"

// Document is a parsed OpenAPI document. It is safe for concurrent use.
type Document struct {
	raw      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema // by JSON pointer
}

// Load parses the gateway's embedded document.
func Load() (*Document, error) {
	return Parse(gateway.OpenAPI())
}

// Parse parses an OpenAPI 3.1 document in JSON.
func Parse(data []byte) (*Document, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("openapitest: parse document: %w", err)
	}
	if v, _ := raw["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("openapitest: document is OpenAPI %q, want 3.1.x", v)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("openapitest: parse document: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, fmt.Errorf("openapitest: add document: %w", err)
	}
	return &Document{raw: raw, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
}

// Routes lists the document's operations as "METHOD /path" (the patterns
// of http.ServeMux), sorted.
func (d *Document) Routes() []string {
	var out []string
	paths, _ := d.raw["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Webhooks lists the names of the document's webhooks, sorted.
func (d *Document) Webhooks() []string {
	hooks, _ := d.raw["webhooks"].(map[string]any)
	return slices.Sorted(maps.Keys(hooks))
}

// ValidateSchema validates a JSON value against components/schemas/<name>.
func (d *Document) ValidateSchema(name string, body []byte) error {
	return d.validate("#/components/schemas/"+escape(name), body)
}

// ValidateWebhook validates a webhook body against the request body schema
// of the webhook the document names hook, checking the documented
// required headers are present in header and every documented header
// matches its schema (nil header skips the header check).
func (d *Document) ValidateWebhook(hook string, header http.Header, body []byte) error {
	op, ok := lookup(d.raw, "webhooks", hook, "post").(map[string]any)
	if !ok {
		return fmt.Errorf("openapitest: no webhook %q", hook)
	}
	if header != nil {
		params, _ := op["parameters"].([]any)
		for i, p := range params {
			pm, _ := p.(map[string]any)
			name, _ := pm["name"].(string)
			if pm["in"] != "header" {
				continue
			}
			value := header.Get(name)
			if value == "" {
				if pm["required"] == true {
					return fmt.Errorf("openapitest: webhook %s: header %s missing", hook, name)
				}
				continue
			}
			quoted, err := json.Marshal(value)
			if err != nil {
				return fmt.Errorf("openapitest: webhook %s: header %s: %w", hook, name, err)
			}
			ptr := fmt.Sprintf("#/webhooks/%s/post/parameters/%d/schema", escape(hook), i)
			if err := d.validate(ptr, quoted); err != nil {
				return fmt.Errorf("openapitest: webhook %s: header %s: %w", hook, name, err)
			}
		}
	}
	return d.validate("#/webhooks/"+escape(hook)+"/post/requestBody/content/application~1json/schema", body)
}

// validate validates body (JSON) against the schema at pointer ptr.
func (d *Document) validate(ptr string, body []byte) error {
	d.mu.Lock()
	sch, ok := d.schemas[ptr]
	if !ok {
		var err error
		if sch, err = d.compiler.Compile(docURL + ptr); err != nil {
			d.mu.Unlock()
			return fmt.Errorf("openapitest: compile %s: %w", ptr, err)
		}
		d.schemas[ptr] = sch
	}
	d.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openapitest: body is not JSON (%w): %.200q", err, body)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("openapitest: body %.300s does not match %s: %w", body, ptr, err)
	}
	return nil
}

// lookup walks nested objects by key; nil when a key is missing.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// escape escapes a JSON pointer token.
func escape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
