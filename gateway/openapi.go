package gateway

import (
	_ "embed"
	"net/http"
	"slices"
)

// openAPIDocument is the OpenAPI 3.1 description of every API route and of
// the webhook deliveries (openapi.json, committed). Tests drive every route
// and every delivery kind against it, so it stays the contract.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns a copy of the gateway's OpenAPI 3.1 document, the one
// served at GET /v1/openapi.json.
func OpenAPI() []byte { return slices.Clone(openAPIDocument) }

// serveOpenAPI answers GET /v1/openapi.json; no bearer token is needed.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}
