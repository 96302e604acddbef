// Package soak proves the bridge's central promise under stress: many
// concurrent live-agent sessions lose nothing and duplicate nothing while the
// MIAW emulator injects every fault it has (dropped streams, duplicate events,
// 5xx answers, 429 bursts, early token expiry, delayed events) and the worker
// process is killed with SIGKILL at random moments and restarted.
//
// Run drives the whole experiment from one process: it starts the embedded
// Temporal server (the dev server process), the MIAW emulator with all faults on
// and a signature-verifying webhook receiver standing in for the assistant,
// builds the production worker binary and runs it as a separate process that a
// seeded chaos loop kills and restarts. Each session is started with the
// assistant's own client (package starter); the agent side is driven through
// the emulator's Go API. Afterwards every session is verified end to end:
//
//   - user → agent: the end-user entries the agent sees in the emulator
//     transcript (the description first, then every message and the
//     attachment) equal, in order, exactly what the user sent;
//   - agent → user: the agent messages delivered to the webhook, counting each
//     distinct delivery id once, equal, in order, exactly what the agent sent
//     (a redelivery of the same id is allowed and counted separately);
//   - attachments arrived once each way with the right SHA-256 (agent files are
//     also re-read from the attachment store and re-hashed);
//   - the workflow completed with the expected close reason and the emulator
//     conversation is closed (nothing left open in Salesforce).
//
// Sessions stay open until the worker was killed Options.Kills times and an
// SSE stream actually ran into its access token's early expiry, so every
// fault kind hits live sessions; kills go on while they close. A failed
// session's workflow history is saved as JSON in the kept work directory.
//
// The Report summarises these counts; Report.OK is true only when every loss,
// duplicate and ordering counter is zero. The soak needs a Unix-like OS (the
// worker is killed with SIGKILL) and the Go toolchain (it builds ./cmd/liveagent-worker).
package soak
