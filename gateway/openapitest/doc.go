// Package openapitest checks HTTP exchanges with the gateway and webhook
// deliveries against the gateway's OpenAPI 3.1 document
// (gateway.OpenAPI), for tests: a route, a status or a body the document
// does not describe is an error, so the document cannot drift from the
// code. Schemas are JSON Schema 2020-12, validated with
// github.com/santhosh-tekuri/jsonschema/v6.
package openapitest
