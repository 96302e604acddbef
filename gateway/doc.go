// Package gateway is the assistant-facing HTTP JSON API for live-agent
// sessions, for assistants that are not written in Go. It is a thin layer over
// package starter: every request is authenticated with a bearer secret,
// decoded strictly, validated by starter and answered with JSON. Delivery back
// to the assistant (agent messages, status) is not here: the worker posts
// signed webhooks.
//
// Endpoints (all JSON; errors are {"error": "..."}):
//
//	GET  /healthz                               liveness (no auth)
//	GET  /v1/openapi.json                       the OpenAPI 3.1 document of this API and the webhooks (no auth; the contract, held true by tests)
//	GET  /v1/topics                             configured topics
//	GET  /v1/availability?topic=…               {available, topic, nextOpen?, availableUntil?, offlineMessage}
//	POST /v1/sessions                           {userId, topic, description, locale} → 201 new, 200 existing
//	GET  /v1/sessions                           open sessions
//	GET  /v1/sessions/{userId}                  state and transcript
//	POST /v1/sessions/{userId}/messages         {messageId, text}
//	POST /v1/sessions/{userId}/attachments      multipart: messageId, caption, file
//	POST /v1/sessions/{userId}/close            {requestId, reason}
//	GET  /v1/attachments/{sha256}[?name=&type=] a stored file (the AttachmentRef URL; with &expires=&sig= no token)
//	POST /codec/decode, /codec/encode           payload codec for operators (Options.Codec; its own token)
//
// Retries are safe: a session is keyed by user id (a second start returns the
// running session), and messages, attachments and close requests are keyed by
// the assistant's id (the workflow handles each id once and answers a retry
// with the first outcome or "duplicate").
//
// Status codes: 400 malformed request (bad JSON, unknown field, missing
// multipart part, a missing or unknown availability topic), 401 missing or
// wrong bearer token, 404 no such session or file, 409 the session refused
// the update or has already closed (closing a closed session is 200
// "closed"), or a start while live agents are offline: nothing was started,
// and the body is {"error":"agents-offline","topic","message","nextOpen"?}
// (message is the configured offline message), 413 body over the limit, a
// file Salesforce refused as too large or handoff context over its limits,
// 415 wrong content type or a file type Salesforce refused (both with
// Salesforce's reason), 422 a validation error (the message says which
// field and why), 503 Temporal unavailable, 504 timed out, 500 anything else (details are logged,
// never returned).
//
// Attachments are served with the bearer token or, when Options.Links is
// set, with a signed unexpired link (?expires=&sig=, HMAC-SHA256 over the
// file id and the expiry; no token needed, 403 with the reason when expired
// or forged), as downloads
// (Content-Disposition: attachment, X-Content-Type-Options: nosniff, a
// sandboxing Content-Security-Policy); types a browser would render or run
// are served as application/octet-stream.
package gateway
