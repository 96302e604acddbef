package openapitest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/gateway/openapitest"
)

// Every schema of the document compiles (its references resolve).
func TestEverySchemaCompiles(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)
	var raw struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(gateway.OpenAPI(), &raw))
	require.NotEmpty(t, raw.Components.Schemas)
	for name := range raw.Components.Schemas {
		err := doc.ValidateSchema(name, []byte(`null`))
		if err != nil {
			assert.NotContains(t, err.Error(), "compile", name)
		}
	}
	_, err = openapitest.Parse([]byte(`{"openapi":"3.0.3"}`))
	assert.Error(t, err, "only OpenAPI 3.1")
}

// ValidateExchange refuses what the document does not describe.
func TestValidateExchangeRefusesTheUndocumented(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)
	js := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	ok := openapitest.Exchange{Method: "GET", Path: "/v1/topics", Status: 200, Header: js, Body: []byte(`{"topics":["HR"]}`)}
	require.NoError(t, doc.ValidateExchange(ok))
	assert.Equal(t, "GET /v1/sessions/{userId}", doc.Route("GET", "/v1/sessions/u-1"))
	assert.Empty(t, doc.Route("DELETE", "/v1/sessions/u-1"))

	for name, change := range map[string]func(*openapitest.Exchange){
		"unknown path":   func(x *openapitest.Exchange) { x.Path = "/v1/nothing" },
		"unknown method": func(x *openapitest.Exchange) { x.Method = "DELETE" },
		"unknown status": func(x *openapitest.Exchange) { x.Status = 418 },
		"other type":     func(x *openapitest.Exchange) { x.Header = http.Header{"Content-Type": {"text/plain"}} },
		"unknown key":    func(x *openapitest.Exchange) { x.Body = []byte(`{"topics":[],"more":1}`) },
		"missing key":    func(x *openapitest.Exchange) { x.Body = []byte(`{}`) },
		"not JSON":       func(x *openapitest.Exchange) { x.Body = []byte(`topics`) },
		"accepted a body": func(x *openapitest.Exchange) {
			x.Method, x.Path, x.RequestBody = "POST", "/v1/sessions/u/messages", []byte(`{"id":1}`)
			x.Body = []byte(`{"status":"sent"}`)
		},
	} {
		x := ok
		change(&x)
		assert.Error(t, doc.ValidateExchange(x), name)
	}
}

// The middleware forwards the answer unchanged and reports a broken one.
func TestMiddleware(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)
	var reported []error
	h := doc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}), func(err error) { reported = append(reported, err) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", strings.NewReader("")))
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	require.Len(t, reported, 1)
	assert.Contains(t, reported[0].Error(), "status 418 not documented")
}
