package openapitest

import (
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Exchange is one request and its answer, bodies read in full.
type Exchange struct {
	Method      string
	Path        string // escaped path, no query
	ContentType string // of the request
	RequestBody []byte
	Status      int
	Header      http.Header // of the answer
	Body        []byte      // of the answer
}

// ValidateExchange checks that the document describes the route, the
// answer's status on it and the answer's content type, that a JSON answer
// body matches the schema documented for that status, and that an
// accepted (2xx) request's JSON body matches the documented request body.
func (d *Document) ValidateExchange(x Exchange) error {
	path, method := d.match(x.Path), strings.ToLower(x.Method)
	if path == "" {
		return fmt.Errorf("openapitest: %s %s: no such path in the document", x.Method, x.Path)
	}
	base := []string{"paths", path, method}
	if lookup(d.raw, base...) == nil {
		return fmt.Errorf("openapitest: %s %s: method not documented on %s", x.Method, x.Path, path)
	}
	status := strconv.Itoa(x.Status)
	resp, respAt := d.resolve(append(base, "responses", status))
	if resp == nil {
		return fmt.Errorf("openapitest: %s %s: status %d not documented (body %.200s)", x.Method, path, x.Status, x.Body)
	}
	ctx := fmt.Sprintf("%s %s %d", x.Method, path, x.Status)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(x.Body) > 0 {
			return fmt.Errorf("openapitest: %s: body not documented: %.200s", ctx, x.Body)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(x.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("openapitest: %s: answer content type %q: %w", ctx, x.Header.Get("Content-Type"), err)
	}
	key := mt
	if _, ok := content[key]; !ok {
		key = "*/*"
		if _, ok := content[key]; !ok {
			return fmt.Errorf("openapitest: %s: content type %s not documented", ctx, mt)
		}
	}
	if key == "application/json" {
		if err := d.validate(pointer(append(respAt, "content", key, "schema")), x.Body); err != nil {
			return fmt.Errorf("%s: %w", ctx, err)
		}
	}
	if x.Status < 200 || x.Status > 299 {
		return nil
	}
	rb, rbAt := d.resolve(append(base, "requestBody"))
	if rb == nil {
		return nil
	}
	rct, _, _ := mime.ParseMediaType(x.ContentType)
	if len(x.RequestBody) == 0 {
		if rb["required"] == true {
			return fmt.Errorf("openapitest: %s: accepted a request without the required body", ctx)
		}
		return nil
	}
	if rct == "" {
		rct = "application/json" // the gateway reads an untyped body as JSON
	}
	if lookup(rb, "content", rct) == nil {
		return fmt.Errorf("openapitest: %s: accepted a request body of type %s the document does not describe", ctx, rct)
	}
	if rct == "application/json" {
		if err := d.validate(pointer(append(rbAt, "content", rct, "schema")), x.RequestBody); err != nil {
			return fmt.Errorf("%s: accepted request: %w", ctx, err)
		}
	}
	return nil
}

// match returns the document path whose template matches the escaped
// request path ("" if none); a template parameter matches one segment.
func (d *Document) match(path string) string {
	paths, _ := d.raw["paths"].(map[string]any)
	if _, ok := paths[path]; ok {
		return path
	}
	segs := strings.Split(path, "/")
	for tmpl := range paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		ok := true
		for i, t := range tsegs {
			if !(strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") && segs[i] != "") && t != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return tmpl
		}
	}
	return ""
}

// resolve returns the object at keys, following one local $ref (as
// responses and request bodies use), and the keys where it really is.
func (d *Document) resolve(keys []string) (map[string]any, []string) {
	m, _ := lookup(d.raw, keys...).(map[string]any)
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		keys = nil
		for _, k := range strings.Split(ref[2:], "/") {
			keys = append(keys, strings.NewReplacer("~1", "/", "~0", "~").Replace(k))
		}
		m, _ = lookup(d.raw, keys...).(map[string]any)
	}
	return m, keys
}

// pointer is the JSON pointer fragment of keys.
func pointer(keys []string) string {
	var b strings.Builder
	b.WriteString("#")
	for _, k := range keys {
		b.WriteString("/" + escape(k))
	}
	return b.String()
}

// Route is the documented operation ("METHOD /template") a request with
// this method and escaped path reaches; "" if none.
func (d *Document) Route(method, path string) string {
	tmpl := d.match(path)
	if tmpl == "" || lookup(d.raw, "paths", tmpl, strings.ToLower(method)) == nil {
		return ""
	}
	return strings.ToUpper(method) + " " + tmpl
}

// Statuses lists the statuses documented for route ("METHOD /template"),
// sorted.
func (d *Document) Statuses(route string) []string {
	method, path, _ := strings.Cut(route, " ")
	responses, _ := lookup(d.raw, "paths", path, strings.ToLower(method), "responses").(map[string]any)
	return slices.Sorted(maps.Keys(responses))
}
