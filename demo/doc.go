// Command demo runs a complete live-agent session on a laptop, in one
// process, with no Docker, no Salesforce org and no internet:
//
//	go run ./demo
//
// It starts an embedded Temporal server with its Web UI (package devserver),
// the MIAW emulator with a scripted agent and verified user authentication
// (RSA dev keys generated in a temporary directory), the production worker
// (app.NewWorker) delivering to a signed webhook, a small webhook receiver
// that verifies every signature (activities.Verifier) and prints what
// the user sees, and the assistant HTTP gateway. Then it plays the assistant
// over the gateway's HTTP API: it asks for an agent with a topic and a
// description, shows the wait (elapsed time, queue position), exchanges
// messages both ways (retrying one with the same id to show it is sent once),
// receives a link and a file from the agent (opened as the user's browser
// would, through its signed, expiring link without the gateway's bearer
// token, and checked against its SHA-256), uploads a file, and exits 0 once the agent
// has closed the session. It prints the Web UI page of the session.
//
// As in production with codec.enabled, every workflow payload is encrypted
// (AES-256-GCM, package codec) with a key generated for the run: the server's
// history holds ciphertext only, and the embedded Web UI decrypts it in the
// browser through the gateway's codec endpoint (<gateway>/codec, open without
// a token only because everything listens on loopback). The process's
// Prometheus metrics (temporal_*, liveagent_*, go_*) are served on a free
// loopback port; both URLs are printed.
//
// Flags:
//
//	-keep              keep everything running after the session (explore the
//	                   Web UI, the emulator console, the gateway) until Ctrl-C
//	-interactive       you type as the user; a person acts as the agent in the
//	                   emulator's console page (its URL is printed)
//	-ui-port N         Web UI port (default 8233; a free port if taken)
//	-accept-after D    how long the scripted agent lets the user wait (3s)
//	-timeout D         give up (exit 1) when the scripted session has not
//	                   closed by then (2m)
//	-offline           close the emulator's business hours first: the
//	                   availability answer says offline (with the next
//	                   opening and the offline message) and a start tried
//	                   anyway is refused with 409 agents-offline, creating
//	                   nothing in Salesforce
//	-v                 show component logs (info level)
//
// This is the only binary that links the Temporal server; the production
// worker and gateway connect to a real cluster.
package main
