// Package activities holds the Temporal activities of the live-agent session
// workflow: every call that does I/O.
//
//   - Salesforce calls (create conversation, send message or file, end the
//     messaging session and close the conversation) wrap the miaw client and
//     turn its typed errors into Temporal errors: permanent ones become
//     non-retryable ApplicationErrors, retryable ones honour Retry-After
//     through NextRetryDelay (see errors.go for the error types).
//   - ListenEvents is the long-running SSE listener. It streams the user's
//     MIAW events, translates those of its conversation into
//     workflows.AgentEvent (TranslateEvent), signals them to the session
//     workflow, heartbeats its Last-Event-ID and resumes from it on retry. It
//     runs on the listener task queue (RegisterListener); ListenShard holds
//     many users' streams the same way (shard.go). Agent typing and receipts
//     are delivered to the assistant by the listener instead of signalled
//     when the session answers with their delivery
//     (workflows.QueryListenerDelivery, listenerdelivery.go).
//   - Agent attachments are downloaded, stored by content hash in an
//     attachstore.Store and handed to the workflow as a reference and link,
//     never as bytes. Failed attachment attempts, both ways, are counted
//     through the activity's SDK metrics handler (MetricAttachmentFailures).
//   - DeliverToUser hands one workflows.Delivery to a Sink: WebhookSink (signed
//     JSON POST to the assistant) or ConsoleSink (one line per delivery, for
//     the demo).
//
// Activities are registered under the names in package workflows
// (workflows.Activity*), so the workflow never imports this package.
// Nothing this package returns or logs contains an access token, private key
// or webhook secret.
package activities
